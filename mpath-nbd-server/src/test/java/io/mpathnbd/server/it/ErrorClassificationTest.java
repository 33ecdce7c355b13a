package io.mpathnbd.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.path.PathState;
import io.mpathnbd.testing.peers.Images;
import io.mpathnbd.testing.peers.Nbdkit;
import io.mpathnbd.testing.peers.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Path errors are retried on another path; target errors reach the client unchanged (nbdkit's error filter injects
 * them on a real backend).
 */
class ErrorClassificationTest {
    private static final long SIZE = 32L << 20;

    @Test
    void eioOnOnePathIsRetriedOnTheOther(@TempDir Path dir) throws Exception {
        Tools.require("nbdkit", "qemu-io");
        Path image = Images.sparse(dir, "disk.img", SIZE);
        Path inject = dir.resolve("inject-eio");
        try (Nbdkit a = Nbdkit.builder().dir(dir.resolve("a")).error("EIO", "100%", inject).file(image).start();
                Nbdkit b = Nbdkit.builder().dir(dir.resolve("b")).file(image).start();
                GatewayRig rig = GatewayRig.start("  iopolicy: round-robin\n", List.of(a.uri(), b.uri()))) {
            Files.writeString(inject, "on");
            Tools.run(GatewayRig.TOOL_TIMEOUT, "qemu-io", "-f", "raw", "-c", "write -P 0x5a 0 2M",
                    "-c", "read -P 0x5a 0 2M", "-c", "write -P 0x3c 8M 1M", "-c", "read -P 0x3c 8M 1M", rig.uri())
                    .assertOk();
            assertTrue(rig.export().failovers() >= 1, "EIO on path a must fail over: " + rig.describePaths());
            assertTrue(rig.path(0).errors() >= 1, rig.describePaths());
            Files.delete(inject);
            rig.awaitAllLive(Duration.ofSeconds(10));
        }
    }

    @Test
    void targetErrorsReachTheClientUnchangedAndFailNoPath(@TempDir Path dir) throws Exception {
        Tools.require("nbdkit", "nbdsh");
        Path image = Images.sparse(dir, "disk.img", SIZE);
        try (Nbdkit a = Nbdkit.builder().dir(dir.resolve("a")).errorFor("pwrite", "ENOSPC", "100%", null)
                        .errorFor("pread", "EINVAL", "100%", null).file(image).start();
                Nbdkit b = Nbdkit.builder().dir(dir.resolve("b")).errorFor("pwrite", "ENOSPC", "100%", null)
                        .errorFor("pread", "EINVAL", "100%", null).file(image).start();
                GatewayRig rig = GatewayRig.start(null, List.of(a.uri(), b.uri()))) {
            String script = String.join("\n",
                    "import errno",
                    "def errno_of(f):",
                    "    try:",
                    "        f()",
                    "        return 'OK'",
                    "    except nbd.Error as e:",
                    "        return errno.errorcode.get(e.errno, e.errno)",
                    "print('write', errno_of(lambda: h.pwrite(b'x' * 4096, 0)))",
                    "print('read', errno_of(lambda: h.pread(4096, 0)))",
                    "");
            Tools.Result r = Tools.run(GatewayRig.TOOL_TIMEOUT, "nbdsh", "-u", rig.uri(), "-c", script).assertOk();
            assertTrue(r.stdout().contains("write ENOSPC"), "ENOSPC expected:\n" + r.describe());
            assertTrue(r.stdout().contains("read EINVAL"), "EINVAL expected:\n" + r.describe());
            assertEquals(0, rig.export().failovers(), "target errors must not fail a path: " + rig.describePaths());
            assertEquals(PathState.LIVE, rig.path(0).state());
            assertEquals(PathState.LIVE, rig.path(1).state());
        }
    }
}
