package io.mpathnbd.server.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.path.PathState;
import io.mpathnbd.testing.peers.Images;
import io.mpathnbd.testing.peers.Nbdkit;
import io.mpathnbd.testing.peers.Tools;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A backend that comes back serving a different disk (another size) is refused, loudly, and I/O stays on the rest. */
class PathIdentityTest {
    @Test
    void restartedBackendWithDifferentSizeIsRefused(@TempDir Path dir) throws Exception {
        Tools.require("nbdkit", "qemu-io");
        Path image = Images.sparse(dir, "disk.img", 32L << 20);
        Path other = Images.sparse(dir, "other.img", 48L << 20);
        Nbdkit b = Nbdkit.builder().dir(dir.resolve("b")).file(image).start();
        try (Nbdkit a = Nbdkit.builder().dir(dir.resolve("a")).file(image).start();
                GatewayRig rig = GatewayRig.start(null, List.of(a.uri(), b.uri()))) {
            int portB = b.port();
            b.kill();
            b.close();
            b = Nbdkit.builder().dir(dir.resolve("b2")).port(portB).file(other).start();
            rig.awaitState(1, PathState.REFUSED, Duration.ofSeconds(10));
            String why = String.valueOf(rig.path(1).lastError());
            assertTrue(why.contains("size"), "the refusal must say the size differs: " + why);
            Tools.run(GatewayRig.TOOL_TIMEOUT, "qemu-io", "-f", "raw", "-c", "write -P 0x11 0 1M",
                    "-c", "read -P 0x11 0 1M", rig.uri()).assertOk();
            assertTrue(rig.path(0).state() == PathState.LIVE, rig.describePaths());
        } finally {
            b.close();
        }
    }
}
