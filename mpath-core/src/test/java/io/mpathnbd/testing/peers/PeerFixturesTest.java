package io.mpathnbd.testing.peers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The peer fixtures do what their javadoc promises, checked with the real programs. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PeerFixturesTest {
    private static final Duration TOOL = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    @Test
    void requireFailsWithTheMissingProgramAndItsPackage() {
        Tools.require("nbdkit", "nbdinfo", "nbdsh", "qemu-io");
        AssertionError e = assertThrows(AssertionError.class, () -> Tools.require("nbdkit", "no-such-tool-xyz"));
        assertTrue(e.getMessage().contains("no-such-tool-xyz"), e.getMessage());
        assertFalse(e.getMessage().contains("nbdkit ("), e.getMessage());
    }

    @Test
    void runCapturesOutputAndExitCode() {
        Tools.Result r = Tools.run(TOOL, "sh", "-c", "echo out; echo err >&2; exit 3");
        assertEquals(3, r.exitCode());
        assertEquals("out\n", r.stdout());
        assertEquals("err\n", r.stderr());
        assertThrows(AssertionError.class, r::assertOk);
        AssertionError slow = assertThrows(AssertionError.class,
                () -> Tools.run(Duration.ofMillis(300), "sleep", "30"));
        assertTrue(slow.getMessage().contains("timed out"), slow.getMessage());
    }

    @Test
    void nbdkitMemoryServesNbdClients() {
        try (Nbdkit kit = Nbdkit.memory(1 << 20)) {
            assertTrue(kit.uri().startsWith("nbd://127.0.0.1:" + kit.port() + "/"), kit.uri());
            Tools.Result r = Tools.run(TOOL, "nbdsh", "-u", kit.uri(), "-c",
                    "h.pwrite(b'x' * 512, 0); print(h.get_size(), h.can_multi_conn(), h.pread(3, 0))").assertOk();
            assertEquals("1048576 True bytearray(b'xxx')", r.stdout().trim());
            Path log = kit.logFile();
            kit.close();
            assertFalse(kit.isAlive());
            assertFalse(Files.exists(log), "a fixture without a directory of the test removes its own on close");
        }
    }

    @Test
    void nbdkitFilePluginWritesTheImageAndDiesOnKill() throws IOException {
        Path image = Images.sparse(tmp, "disk.img", 4 << 20);
        try (Nbdkit a = Nbdkit.builder().dir(tmp).file(image).start();
                Nbdkit b = Nbdkit.builder().dir(tmp).file(image).start()) {
            assertNotEquals(a.port(), b.port());
            assertEquals(image.toAbsolutePath(), a.image());
            Tools.run(TOOL, "qemu-io", "-f", "raw", "-c", "write -P 0xab 4096 4096", a.uri()).assertOk();
            Tools.run(TOOL, "qemu-io", "-f", "raw", "-c", "read -P 0xab 4096 4096", b.uri()).assertOk();
            byte[] expected = new byte[4096];
            java.util.Arrays.fill(expected, (byte) 0xab);
            assertArrayEquals(expected, Images.read(image, 4096, 4096));
            a.kill();
            assertFalse(a.isAlive());
            assertTrue(b.isAlive());
            assertTrue(Files.exists(a.logFile()), "the log stays in the test's directory");
        }
    }

    @Test
    void nbdkitProxyForwardsToAnotherServer() {
        try (Nbdkit backend = Nbdkit.builder().dir(tmp).memory(1 << 20).start();
                Nbdkit proxy = Nbdkit.builder().dir(tmp).nbdProxy(backend.host(), backend.port(), "").start()) {
            Tools.run(TOOL, "qemu-io", "-f", "raw", "-c", "write -P 0x33 0 4k", proxy.uri()).assertOk();
            Tools.run(TOOL, "qemu-io", "-f", "raw", "-c", "read -P 0x33 0 4k", backend.uri()).assertOk();
        }
    }

    @Test
    void nbdkitErrorFileSwitchesErrorsOnAndOff() throws IOException {
        Path inject = tmp.resolve("inject");
        try (Nbdkit kit = Nbdkit.builder().dir(tmp).error("EIO", "100%", inject).memory(1 << 20).start()) {
            Tools.run(TOOL, "qemu-io", "-f", "raw", "-c", "read 0 512", kit.uri()).assertOk();
            Files.createFile(inject);
            Tools.Result failed = Tools.run(TOOL, "qemu-io", "-f", "raw", "-c", "read 0 512", kit.uri());
            assertTrue(failed.stdout().contains("error") || failed.stderr().contains("error")
                    || failed.exitCode() != 0, failed.describe());
        }
    }

    @Test
    void nbdkitPauseHoldsRequestsUntilResume() throws Exception {
        try (Nbdkit kit = Nbdkit.builder().dir(tmp).pause().memory(1 << 20).start()) {
            kit.pause();
            Process p = new ProcessBuilder("qemu-io", "-f", "raw", "-c", "read 0 512", kit.uri())
                    .redirectErrorStream(true).redirectOutput(tmp.resolve("qemu-io.out").toFile()).start();
            try {
                assertFalse(p.waitFor(1, TimeUnit.SECONDS), "a paused server must not answer");
                kit.resume();
                assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the request completes after resume");
                assertEquals(0, p.exitValue());
            } finally {
                p.destroyForcibly();
            }
        }
    }

    @Test
    void nbdServerSignalsReachTheChildServingAClient() throws IOException {
        Path image = Images.sparse(tmp, "disk.img", 8 << 20);
        try (NbdServer server = NbdServer.start(tmp, "disk", image)) {
            assertEquals(tmp, server.logFile().getParent());
            Tools.Result info = Tools.run(TOOL, "qemu-img", "info", "--output=json", server.uri()).assertOk();
            assertTrue(info.stdout().contains("\"virtual-size\": 8388608"), info.stdout());
            try (Socket client = new Socket(server.host(), server.port())) {
                InputStream in = client.getInputStream();
                assertEquals('N', in.read(), "the forked child greets the client");
                List<ProcessHandle> children = awaitChildren(server.pid());
                server.stop();
                int stopped = 0;
                for (ProcessHandle h : children) {
                    char st = state(h.pid());
                    // a child that served an earlier client may have exited meanwhile (Z or gone)
                    assertTrue(st == 'T' || st == 'Z' || st == '?', "child " + h.pid() + " is in state " + st);
                    stopped += st == 'T' ? 1 : 0;
                }
                assertTrue(stopped >= 1, "the child serving our connection is stopped");
                assertEquals('T', state(server.pid()));
                server.cont();
                assertNotEquals('T', state(server.pid()));
                server.kill();
                assertFalse(server.isAlive());
                for (ProcessHandle h : children) {
                    assertFalse(PeerProcess.isRunning(h.pid()), "child " + h.pid() + " was killed too");
                }
            }
        }
    }

    @Test
    void qemuNbdServesItsExport() {
        Path image = Images.sparse(tmp, "disk.img", 4 << 20);
        try (QemuNbd q = QemuNbd.builder().image(image).exportName("vol 1").dir(tmp).start()) {
            assertTrue(q.uri().endsWith("/vol%201"), q.uri());
            Tools.run(TOOL, "qemu-io", "-f", "raw", "-c", "write -P 0x5a 0 64k", q.uri()).assertOk();
            assertEquals(0x5a, Images.read(image, 65535, 1)[0]);
            Tools.Result wrong = Tools.run(TOOL, "qemu-io", "-f", "raw", "-c", "read 0 512", q.uri("other"));
            assertNotEquals(0, wrong.exitCode(), wrong.describe());
        }
    }

    private static List<ProcessHandle> awaitChildren(long pid) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            // children that served earlier clients may linger as zombies until nbd-server reaps them
            List<ProcessHandle> c = ProcessHandle.of(pid).orElseThrow().children()
                    .filter(h -> PeerProcess.isRunning(h.pid())).toList();
            if (!c.isEmpty()) {
                return c;
            }
            assertTrue(System.nanoTime() < deadline, "nbd-server forked no child for the client");
            PeerProcess.sleep(10);
        }
    }

    private static char state(long pid) {
        return PeerProcess.state(pid);
    }
}
