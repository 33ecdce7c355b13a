package io.mpathnbd.server.metrics;

import static io.mpathnbd.server.GatewayTestSupport.awaitState;
import static io.mpathnbd.server.GatewayTestSupport.fileUri;
import static io.mpathnbd.server.GatewayTestSupport.http;
import static io.mpathnbd.server.GatewayTestSupport.image;
import static io.mpathnbd.server.GatewayTestSupport.nbdUri;
import static io.mpathnbd.server.GatewayTestSupport.writeAndVerify;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.path.PathState;
import io.mpathnbd.server.Gateway;
import io.mpathnbd.server.GatewayTestSupport;
import io.mpathnbd.testing.peers.Tools;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** /metrics after real I/O through a real gateway. */
class MetricsTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void tools() {
        Tools.require("qemu-io", "nbdinfo");
    }

    private static Scrape scrape(Gateway g) throws Exception {
        HttpResponse<String> r = http(g, "GET", "/metrics", null);
        assertEquals(200, r.statusCode());
        return new Scrape(r.body());
    }

    @Test
    void metersReflectRealIo() throws Exception {
        try (Gateway g = GatewayTestSupport.twoPathGateway(image(dir, "disk.img"), "round-robin")) {
            writeAndVerify(nbdUri(g, "disk0"), 0, 0x3c).assertOk();
            Tools.run(GatewayTestSupport.TOOL_TIMEOUT, "nbdinfo", nbdUri(g, "disk0")).assertOk();
            Scrape s = scrape(g);

            // per path and op: counts by outcome, latency histogram (one 1 MiB write is one request on one path)
            assertTrue(s.sum("mpath_path_requests_total", "export", "disk0", "op", "write", "outcome", "ok") >= 1,
                    "writes\n" + s.text);
            assertTrue(s.sum("mpath_path_requests_total", "export", "disk0", "op", "read", "outcome", "ok") >= 1,
                    "reads");
            assertEquals(0.0, s.sum("mpath_path_requests_total", "outcome", "error"));
            assertTrue(s.sum("mpath_path_request_seconds_count", "export", "disk0", "op", "write") >= 1);
            assertTrue(s.sum("mpath_path_request_seconds_sum", "export", "disk0", "op", "write") > 0);
            for (String path : new String[] {"p0", "p1"}) {
                for (String op : new String[] {"read", "write", "flush", "trim", "cache", "write_zeroes",
                        "block_status"}) {
                    assertEquals(2, s.find("mpath_path_requests_total", "export", "disk0", "path", path, "op", op)
                            .size(), path + " " + op + ": ok and error series exist from the start");
                }
                assertTrue(s.find("mpath_path_request_seconds_bucket", "path", path, "op", "read").size() > 10,
                        "a percentile histogram");
                assertEquals(1.0, s.sum("mpath_path_state", "export", "disk0", "path", path, "state", "live"));
                assertEquals(0.0, s.sum("mpath_path_state", "path", path, "state", "failed"));
                assertEquals(0.0, s.sum("mpath_path_inflight", "export", "disk0", "path", path));
                assertEquals(0.0, s.sum("mpath_path_errors_total", "path", path));
                assertEquals(1.0, s.sum("mpath_path_access_state", "path", path, "state", "optimized"));
            }
            assertEquals(1 << 20, s.sum("mpath_path_written_bytes_total", "export", "disk0"), 0.0,
                    "one MiB written in all");
            // per export
            assertEquals(0.0, s.sum("mpath_export_failovers_total", "export", "disk0"));
            assertEquals(0.0, s.sum("mpath_export_requeues_total", "export", "disk0"));
            assertEquals(0.0, s.sum("mpath_export_held_requests", "export", "disk0"));
            assertEquals(0.0, s.sum("mpath_export_held_total", "export", "disk0"));
            assertEquals(1.0, s.sum("mpath_export_ready", "export", "disk0"));
            assertEquals(0.0, s.sum("mpath_export_clients", "export", "disk0"), "clients have left");
            // front end
            assertTrue(s.sum("mpath_client_connections_accepted_total") >= 2, "qemu-io and nbdinfo");
            GatewayTestSupport.await("connections closed", java.time.Duration.ofSeconds(10),
                    () -> g.clientConnections() == 0);
            assertEquals(0.0, scrape(g).sum("mpath_client_connections"));
            assertTrue(s.has("jvm_memory_used_bytes"), "process metrics too");
        }
    }

    @Test
    void pathStateAndRemovalShowInTheMeters() throws Exception {
        try (Gateway g = GatewayTestSupport.twoPathGateway(image(dir, "disk.img"), null)) {
            g.export("disk0").failPath("p1");
            awaitState(g.export("disk0"), "p1", PathState.DISABLED);
            Scrape s = scrape(g);
            assertEquals(1.0, s.sum("mpath_path_state", "path", "p1", "state", "disabled"));
            assertEquals(0.0, s.sum("mpath_path_state", "path", "p1", "state", "live"));

            g.export("disk0").removePath("p1").get(30, java.util.concurrent.TimeUnit.SECONDS);
            s = scrape(g);
            assertTrue(s.find("mpath_path_state", "path", "p1").isEmpty(), "a removed path's meters are gone");
            assertTrue(s.find("mpath_path_requests_total", "path", "p1").isEmpty());
            assertEquals(1.0, s.sum("mpath_path_state", "path", "p0", "state", "live"));

            g.addPath(g.export("disk0"), fileUri(dir.resolve("disk.img-b")), "p1");
            awaitState(g.export("disk0"), "p1", PathState.LIVE);
            assertEquals(1.0, scrape(g).sum("mpath_path_state", "path", "p1", "state", "live"),
                    "a path added again gets fresh meters");
        }
    }

    @Test
    void protocolErrorsAreCountedByReason() throws Exception {
        try (Gateway g = GatewayTestSupport.twoPathGateway(image(dir, "disk.img"), null)) {
            try (Socket sock = new Socket(InetAddress.getLoopbackAddress(), g.nbdAddress().getPort())) {
                sock.setSoTimeout(5000);
                sock.getInputStream().readNBytes(18); // greeting
                OutputStream out = sock.getOutputStream();
                out.write(new byte[] {0, 0, 0, 1}); // client flags: fixed newstyle
                out.write("this is not IHAVEOPT".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                out.flush();
                // the server closes the connection
                while (sock.getInputStream().read() >= 0) {
                    // drain
                }
            }
            GatewayTestSupport.await("protocol error counted", java.time.Duration.ofSeconds(10), () -> {
                try {
                    return scrape(g).sum("mpath_client_protocol_errors_total") >= 1;
                } catch (Exception e) {
                    return false;
                }
            });
            assertTrue(scrape(g).find("mpath_client_protocol_errors_total").get(0).labels().containsKey("reason"));
        }
    }
}
