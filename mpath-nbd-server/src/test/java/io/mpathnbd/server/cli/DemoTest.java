package io.mpathnbd.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.server.GatewayTestSupport;
import io.mpathnbd.testing.peers.FreePort;
import io.mpathnbd.testing.peers.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mpath-nbd demo} as a newcomer runs it: attach with real clients, fail a path, I/O goes on. */
class DemoTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void tools() {
        Tools.require("nbdinfo", "qemu-io");
    }

    @Test
    void demoServesAMultipathDiskAndSurvivesAFailedPath() throws Exception {
        int nbd = FreePort.next();
        int admin = FreePort.next();
        int t0 = FreePort.next();
        int t1 = FreePort.next();
        String adminAt = "127.0.0.1:" + admin;
        try (ChildProcess p = ChildProcess.start(dir, "demo", "--dir", dir.resolve("demo").toString(),
                "--size", "64MiB", "--listen", "127.0.0.1:" + nbd, "--admin", adminAt,
                "--target-ports", t0 + "," + t1)) {
            p.awaitOutput("the instructions", Duration.ofSeconds(60), s -> s.contains("Press Ctrl-C to stop."));
            String uri = "nbd://127.0.0.1:" + nbd + "/disk0";
            String out = p.out();
            assertTrue(out.contains("  nbdinfo " + uri + "\n"), out);
            assertTrue(out.contains("  qemu-io -f raw -c 'write -P 0xab 0 1M' -c 'read -P 0xab 0 1M' " + uri + "\n"),
                    out);
            assertTrue(out.contains("  nbd-client 127.0.0.1 " + nbd + " /dev/nbd0 -N disk0\n"), out);
            assertTrue(out.contains(" status --admin " + adminAt + "\n"), out);
            assertTrue(out.contains(" path fail --admin " + adminAt + " disk0 p0\n"), out);
            assertTrue(out.contains(" path reinstate --admin " + adminAt + " disk0 p0\n"), out);
            assertTrue(out.contains("  p0  nbd://127.0.0.1:" + t0 + "/disk0\n"), out);
            assertTrue(out.contains("  p1  nbd://127.0.0.1:" + t1 + "/disk0\n"), out);
            Path image = dir.resolve("demo").resolve("disk0.img");
            assertEquals(64L << 20, Files.size(image));

            // the commands it printed work, the first one pasted at once
            Tools.Result info = Tools.run(GatewayTestSupport.TOOL_TIMEOUT, "nbdinfo", uri).assertOk();
            assertTrue(info.stdout().contains("export-size: 67108864"), info.describe());
            GatewayTestSupport.await("both paths live", Duration.ofSeconds(30), () -> {
                CliRun s = CliRun.of("status", "--admin", adminAt);
                return s.exitCode() == 0 && s.out().split("  live  ", -1).length == 3;
            });
            Tools.run(GatewayTestSupport.TOOL_TIMEOUT, "qemu-io", "-f", "raw", "-c", "write -P 0xab 0 1M",
                    "-c", "read -P 0xab 0 1M", uri).assertOk();

            CliRun fail = CliRun.of("path", "fail", "--admin", adminAt, "disk0", "p0");
            assertEquals(0, fail.exitCode(), fail.toString());
            CliRun status = CliRun.of("status", "--admin", adminAt);
            assertTrue(status.out().contains("|- p0  nbd://127.0.0.1:" + t0 + "/disk0  disabled"), status.out());

            // with p0 failed, I/O keeps working through p1
            GatewayTestSupport.writeAndVerify(uri, 2 << 20, 0xcd).assertOk();
            GatewayTestSupport.verify(uri, 0, 0xab).assertOk();

            CliRun back = CliRun.of("path", "reinstate", "--admin", adminAt, "disk0", "p0");
            assertEquals(0, back.exitCode(), back.toString());
            GatewayTestSupport.await("p0 live again", Duration.ofSeconds(30),
                    () -> CliRun.of("status", "--admin", adminAt).out().contains("|- p0  nbd://127.0.0.1:" + t0
                            + "/disk0  live"));
            GatewayTestSupport.verify(uri, 2 << 20, 0xcd).assertOk();

            int code = p.terminate(Duration.ofSeconds(30));
            assertEquals(143, code, p.describe());
            assertFalse(p.err().contains("LEAK:"), p.describe());
            assertFalse(p.err().contains("ERROR"), p.describe());
        }
    }
}
