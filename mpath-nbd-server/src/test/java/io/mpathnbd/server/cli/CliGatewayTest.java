package io.mpathnbd.server.cli;

import static io.mpathnbd.server.GatewayTestSupport.adminAddress;
import static io.mpathnbd.server.GatewayTestSupport.awaitState;
import static io.mpathnbd.server.GatewayTestSupport.alias;
import static io.mpathnbd.server.GatewayTestSupport.fileUri;
import static io.mpathnbd.server.GatewayTestSupport.image;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.mpathnbd.core.path.PathState;
import io.mpathnbd.server.Gateway;
import io.mpathnbd.server.GatewayTestSupport;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** status, path and iopolicy against a real gateway running in this JVM. */
class CliGatewayTest {
    @TempDir
    static Path dir;
    static Path img;
    static Gateway gateway;
    static String admin;

    @BeforeAll
    static void start() throws Exception {
        img = image(dir, "disk.img");
        gateway = GatewayTestSupport.twoPathGateway(img, null);
        admin = adminAddress(gateway);
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    private static CliRun ok(String... args) {
        CliRun r = CliRun.of(args);
        assertEquals(0, r.exitCode(), r.toString());
        return r;
    }

    @Test
    void statusLooksLikeMultipathLl() {
        String uri = fileUri(img);
        CliRun r = ok("status", "--admin", admin);
        String[] lines = r.out().split("\n");
        assertEquals("disk0 size=64MiB (67108864 bytes) iopolicy=numa ready", lines[0], r.out());
        assertTrue(lines[1].startsWith("  failovers=0 path-failures=0 requeues=0 held=0 features='"), r.out());
        // the URI column is padded to the longest URI
        assertTrue(lines[2].matches("  \\|- p0  \\Q" + uri + "\\E +live  optimized  in-flight=0  requests=.*"), r.out());
        assertTrue(lines[3].startsWith("  `- p1  " + fileUri(alias(img, "disk.img-b")) + "  live  optimized  in-flight=0"
                + "  requests="), r.out());
        assertTrue(lines[3].contains("errors=0"), r.out());
        assertEquals(4, lines.length, r.out());

        CliRun one = ok("status", "--admin", admin, "disk0");
        assertEquals(r.out().split("\n")[0], one.out().split("\n")[0]);
    }

    @Test
    void statusAsJson() throws Exception {
        CliRun r = ok("status", "--json", "--admin", admin);
        var json = new ObjectMapper().readTree(r.out());
        assertEquals("disk0", json.get(0).get("name").asText());
        assertEquals(2, json.get(0).get("paths").size());
    }

    @Test
    void failAndReinstateAPath() {
        CliRun r = ok("path", "fail", "--admin", admin, "disk0", "p1");
        assertTrue(r.out().startsWith("path disk0/p1 " + fileUri(alias(img, "disk.img-b")) + ": "), r.out());
        awaitState(gateway.export("disk0"), "p1", PathState.DISABLED);
        String status = ok("status", "--admin", admin).out();
        assertTrue(status.contains("`- p1  " + fileUri(alias(img, "disk.img-b")) + "  disabled  optimized"), status);

        ok("path", "reinstate", "--admin", admin, "disk0", "p1");
        awaitState(gateway.export("disk0"), "p1", PathState.LIVE);
        status = ok("status", "--admin", admin).out();
        assertTrue(status.contains("`- p1  " + fileUri(alias(img, "disk.img-b")) + "  live"), status);
    }

    @Test
    void addAndRemoveAPath() {
        CliRun r = ok("path", "add", "--admin", admin, "--id", "more", "disk0", fileUri(alias(img, "disk-more.img")));
        assertTrue(r.out().startsWith("added path disk0/more " + fileUri(alias(img, "disk-more.img")) + ": "), r.out());
        awaitState(gateway.export("disk0"), "more", PathState.LIVE);
        assertTrue(ok("status", "--admin", admin).out().contains("`- more  "));

        CliRun dup = CliRun.of("path", "add", "--admin", admin, "disk0", fileUri(img));
        assertEquals(1, dup.exitCode(), dup.toString());
        assertTrue(dup.err().contains("'" + fileUri(img) + "' is the same backend as path p0"), dup.toString());

        r = ok("path", "remove", "--admin", admin, "disk0", "more");
        assertEquals("removed path disk0/more", r.out().strip());
        assertNull(gateway.export("disk0").path("more"));
    }

    @Test
    void switchTheIoPolicy() {
        CliRun r = ok("iopolicy", "--admin", admin, "disk0", "service-time");
        assertEquals("export disk0: iopolicy service-time", r.out().strip());
        assertEquals("service-time", gateway.export("disk0").ioPolicy());
        ok("iopolicy", "--admin", admin, "disk0", "numa");
    }

    @Test
    void errorsFromTheApiExitOne() {
        CliRun r = CliRun.of("path", "fail", "--admin", admin, "disk9", "p0");
        assertEquals(1, r.exitCode(), r.toString());
        assertEquals("mpath-nbd: no export named 'disk9'", r.err().strip());
        r = CliRun.of("path", "reinstate", "--admin", admin, "disk0", "p7");
        assertEquals(1, r.exitCode(), r.toString());
        assertEquals("mpath-nbd: export 'disk0' has no path 'p7'", r.err().strip());
        r = CliRun.of("iopolicy", "--admin", admin, "disk0", "fastest");
        assertEquals(1, r.exitCode(), r.toString());
        assertEquals("mpath-nbd: unknown iopolicy 'fastest' (supported: numa, round-robin, queue-depth,"
                + " service-time)", r.err().strip());
        r = CliRun.of("status", "--admin", admin, "nope");
        assertEquals(1, r.exitCode(), r.toString());
        assertEquals("mpath-nbd: no export named 'nope'", r.err().strip());
    }
}
