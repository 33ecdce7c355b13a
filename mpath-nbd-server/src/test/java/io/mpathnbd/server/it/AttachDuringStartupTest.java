package io.mpathnbd.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.server.Gateway;
import io.mpathnbd.server.config.GatewayConfig;
import io.mpathnbd.testing.Tgtd;
import io.mpathnbd.testing.peers.FreePort;
import io.mpathnbd.testing.peers.Images;
import io.mpathnbd.testing.peers.Nbdkit;
import io.mpathnbd.testing.peers.Tools;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients that attach while an export has no usable path yet (the gateway has just started, a backend comes up late,
 * or every backend is down) are held until a path is live, within attach-wait, and only then refused, with a message
 * saying the export exists; other exports answer meanwhile. Real backends (nbdkit, tgtd) and real clients (qemu-io,
 * nbdinfo).
 */
class AttachDuringStartupTest {
    private static final long SIZE = 16L << 20;
    private static final Duration TOOL = Duration.ofSeconds(90);

    private static String yaml(String limits, String... exports) {
        StringBuilder y = new StringBuilder("listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\n");
        if (limits != null) {
            y.append("limits:\n").append(limits);
        }
        y.append("defaults:\n  connect-timeout: 2s\n  reconnect-min: 50ms\n  reconnect-max: 200ms\n");
        y.append("exports:\n");
        for (String e : exports) {
            y.append(e);
        }
        return y.toString();
    }

    private static String export(String name, String... uris) {
        StringBuilder y = new StringBuilder("  - name: ").append(name).append("\n    paths:\n");
        for (String u : uris) {
            y.append("      - ").append(u).append('\n');
        }
        return y.toString();
    }

    private static String uri(Gateway g, String export) {
        return "nbd://127.0.0.1:" + g.nbdAddress().getPort() + "/" + export;
    }

    /** qemu-io writes a pattern and reads it back through the gateway; started at once, so it may meet no path. */
    private static Process writeAndVerify(Path dir, String uri, int pattern) throws java.io.IOException {
        String p = String.format("0x%02x", pattern);
        return new ProcessBuilder("qemu-io", "-f", "raw", "-c", "write -P " + p + " 1M 1M",
                "-c", "read -P " + p + " 1M 1M", uri)
                .redirectErrorStream(true).redirectOutput(dir.resolve("qemu-io-" + pattern + ".log").toFile())
                .start();
    }

    private static void assertSucceeded(Process p, Path dir, int pattern) throws Exception {
        assertTrue(p.waitFor(TOOL.toSeconds(), TimeUnit.SECONDS), "qemu-io did not finish");
        String log = java.nio.file.Files.readString(dir.resolve("qemu-io-" + pattern + ".log"));
        assertEquals(0, p.exitValue(), log);
        assertFalse(log.contains("Pattern verification failed") || log.contains("error"), log);
    }

    @Test
    void aClientStartedWithTheGatewayAttachesOverAnNbdPath(@TempDir Path dir) throws Exception {
        Tools.require("qemu-io", "nbdkit");
        Path image = Images.sparse(dir, "disk.img", SIZE);
        try (Nbdkit kit = Nbdkit.file(image);
                Gateway g = Gateway.start(GatewayConfig.parse(yaml(null, export("disk", kit.uri()))))) {
            Process client = writeAndVerify(dir, uri(g, "disk"), 0x5a);
            assertSucceeded(client, dir, 0x5a);
            assertEquals((byte) 0x5a, Images.read(image, 1L << 20, 1)[0], "the write reached the backend");
        }
    }

    @Test
    void aClientStartedWithTheGatewayAttachesOverIscsiPaths(@TempDir Path dir) throws Exception {
        Tools.require("qemu-io");
        Path image = Images.sparse(dir, "lun.img", SIZE);
        try (Tgtd tgtd = Tgtd.start(image);
                Gateway g = Gateway.start(GatewayConfig.parse(yaml(null,
                        export("disk", tgtd.uri(0), tgtd.uri(1)))))) {
            boolean readyAtLaunch = g.export("disk").ready();
            Process client = writeAndVerify(dir, uri(g, "disk"), 0x6b);
            assertSucceeded(client, dir, 0x6b);
            assertFalse(readyAtLaunch, "the client was launched before the iSCSI login finished");
        }
    }

    @Test
    void aBackendThatStartsTwoSecondsAfterTheGatewayServesTheWaitingClient(@TempDir Path dir) throws Exception {
        Tools.require("qemu-io", "nbdkit");
        Path image = Images.sparse(dir, "disk.img", SIZE);
        int port = FreePort.next();
        String backend = "nbd://127.0.0.1:" + port + "/";
        try (Gateway g = Gateway.start(GatewayConfig.parse(yaml(null, export("disk", backend))))) {
            Process client = writeAndVerify(dir, uri(g, "disk"), 0x7c);
            Thread.sleep(2000); // the backend starts 2 s after the gateway, as in a compose rig
            assertFalse(g.export("disk").ready(), "no backend yet");
            assertTrue(client.isAlive(), "the client waits for the export instead of being refused");
            try (Nbdkit kit = Nbdkit.builder().dir(dir).port(port).file(image).start()) {
                assertSucceeded(client, dir, 0x7c);
                assertEquals((byte) 0x7c, Images.read(image, 1L << 20, 1)[0]);
            }
        }
    }

    @Test
    void withEveryBackendDownAClientIsHeldThenRefusedClearlyAndOthersAreNotDelayed(@TempDir Path dir)
            throws Exception {
        Tools.require("nbdinfo", "nbdsh", "qemu-img", "nbdkit");
        Path other = Images.sparse(dir, "other.img", SIZE);
        int port = FreePort.next();
        String down = "nbd://127.0.0.1:" + port + "/";
        String config = yaml("  attach-wait: 8s\n", export("disk", down),
                export("other", other.toAbsolutePath().toUri().toString()));
        try (Gateway g = Gateway.start(GatewayConfig.parse(config))) {
            // qemu shows the server's message with its error (libnbd tools print only their reading of the code)
            Process waiting = new ProcessBuilder("qemu-img", "info", "-f", "raw", uri(g, "disk"))
                    .redirectErrorStream(true).redirectOutput(dir.resolve("waiting.log").toFile()).start();

            // meanwhile another export answers, and the listing names the export that cannot serve yet
            Tools.Result size = Tools.run(TOOL, "nbdinfo", "--size", uri(g, "other")).assertOk();
            assertEquals(String.valueOf(SIZE), size.stdout().strip());
            Tools.Result list = Tools.run(TOOL, "nbdsh", "--opt-mode", "-u", uri(g, ""),
                    "-c", "h.opt_list(lambda name, desc: print('export:', name) or 0)").assertOk();
            assertTrue(list.stdout().contains("export: disk\n"), list.stdout());
            assertTrue(waiting.isAlive(), "the other export's clients were answered while this one waited");

            assertTrue(waiting.waitFor(TOOL.toSeconds(), TimeUnit.SECONDS));
            String log = java.nio.file.Files.readString(dir.resolve("waiting.log"));
            assertTrue(waiting.exitValue() != 0, log);
            assertTrue(log.contains("export 'disk' exists but has no usable path (waited 8000 ms for one to connect)"),
                    log);

            // attachable as soon as a backend is up
            try (Nbdkit kit = Nbdkit.builder().dir(dir).port(port).memory(SIZE).start()) {
                Tools.Result late = Tools.run(TOOL, "nbdinfo", "--size", uri(g, "disk")).assertOk();
                assertEquals(String.valueOf(SIZE), late.stdout().strip());
            }
        }
    }
}
