package io.mpathnbd.server.admin;

import static io.mpathnbd.server.GatewayTestSupport.await;
import static io.mpathnbd.server.GatewayTestSupport.awaitState;
import static io.mpathnbd.server.GatewayTestSupport.http;
import static io.mpathnbd.server.GatewayTestSupport.image;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mpathnbd.core.path.PathState;
import io.mpathnbd.server.Gateway;
import io.mpathnbd.server.GatewayTestSupport;
import io.mpathnbd.server.config.GatewayConfig;
import io.mpathnbd.testing.peers.FreePort;
import io.mpathnbd.testing.peers.Nbdkit;
import io.mpathnbd.testing.peers.Tools;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /health} says whether each export can serve I/O now (serving, not-ready, holding, unavailable) with the
 * reason, and answers 503 unless all can: a load balancer must not send clients to a disk without a usable path.
 */
class HealthTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static JsonNode health(Gateway g, String path, int status) throws Exception {
        HttpResponse<String> r = http(g, "GET", path, null);
        assertEquals(status, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    private static String yaml(String uri) {
        return "listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\ndefaults:\n  connect-timeout: 1s\n  reconnect-min: 50ms\n"
                + "  reconnect-max: 200ms\nexports:\n  - name: disk\n    paths:\n      - " + uri + "\n";
    }

    @Test
    void anExportWhosePathsAreAllFailedIsUnavailableAllRemovedIsHolding() throws Exception {
        try (Gateway g = GatewayTestSupport.twoPathGateway(image(dir, "disk.img"), null)) {
            assertEquals("ok", health(g, "/health", 200).get("status").asText());
            g.export("disk0").failPath("p0");
            awaitState(g.export("disk0"), "p0", PathState.DISABLED);
            JsonNode one = health(g, "/health/disk0", 200).get("exports").get("disk0");
            assertEquals("serving", one.get("state").asText());
            assertEquals(1, one.get("usable-paths").asInt());

            g.export("disk0").failPath("p1");
            awaitState(g.export("disk0"), "p1", PathState.DISABLED);
            JsonNode all = health(g, "/health", 503);
            assertEquals("unavailable", all.get("status").asText());
            JsonNode d = all.get("exports").get("disk0");
            assertEquals("unavailable", d.get("state").asText(), all.toString());
            assertEquals(0, d.get("usable-paths").asInt());
            assertEquals(2, d.get("paths").asInt());
            assertEquals("no usable path and none reconnecting: p0 disabled: disabled by operator; p1 disabled:"
                    + " disabled by operator", d.get("reason").asText());

            g.export("disk0").reinstatePath("p0");
            awaitState(g.export("disk0"), "p0", PathState.LIVE);
            assertEquals("serving", health(g, "/health/disk0", 200).get("exports").get("disk0").get("state").asText());

            g.export("disk0").removePath("p1").get(30, java.util.concurrent.TimeUnit.SECONDS);
            g.export("disk0").removePath("p0").get(30, java.util.concurrent.TimeUnit.SECONDS);
            JsonNode none = health(g, "/health", 503).get("exports").get("disk0");
            // I/O is held for removal-delay, as a path may be added back; health says the disk cannot serve now
            assertEquals("holding", none.get("state").asText(), none.toString());
            assertEquals(0, none.get("paths").asInt());
            assertEquals("no usable path, I/O is held while one may come back: no paths; within removal delay",
                    none.get("reason").asText());
        }
    }

    @Test
    void anExportWithoutAPathYetIsNotReadyAndOneWhoseBackendWentAwayIsHolding() throws Exception {
        Tools.require("nbdkit");
        int port = FreePort.next();
        try (Gateway g = Gateway.start(GatewayConfig.parse(yaml("nbd://127.0.0.1:" + port + "/")))) {
            JsonNode d = health(g, "/health", 503).get("exports").get("disk");
            assertEquals("not-ready", d.get("state").asText(), d.toString());
            assertTrue(d.get("reason").asText().startsWith("no path has connected yet: p0 "), d.toString());

            try (Nbdkit kit = Nbdkit.builder().dir(dir).port(port).memory(1 << 20).start()) {
                await("disk serving", Duration.ofSeconds(30), () -> g.export("disk").health().serving());
                assertEquals("serving", health(g, "/health", 200).get("exports").get("disk").get("state").asText());
                kit.kill();
                await("disk holding", Duration.ofSeconds(30), () -> !g.export("disk").health().serving());
                JsonNode h = health(g, "/health", 503).get("exports").get("disk");
                assertEquals("holding", h.get("state").asText(), h.toString());
                assertTrue(h.get("reason").asText().startsWith("no usable path, I/O is held while one may come back: "
                        + "p0 "), h.toString());
            }
        }
    }
}
