package io.mpathnbd.server.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.testing.peers.Images;
import io.mpathnbd.testing.peers.NbdServer;
import io.mpathnbd.testing.peers.QemuNbd;
import io.mpathnbd.testing.peers.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real clients (nbdinfo, qemu-io, qemu-img, nbdcopy) through a two-path export whose paths are two different NBD
 * server implementations (nbd-server and qemu-nbd) serving one image file.
 */
class TwoPathClientsTest {
    private static final long SIZE = 64L << 20;

    @Test
    void realClientsRoundTripThroughTwoHeterogeneousPaths(@TempDir Path dir) throws Exception {
        Tools.require("nbd-server", "qemu-nbd", "nbdinfo", "qemu-io", "qemu-img", "nbdcopy");
        Path image = Images.sparse(dir, "disk.img", SIZE);
        try (NbdServer a = NbdServer.start(dir.resolve("a"), "disk", image);
                QemuNbd b = QemuNbd.builder().image(image).exportName("disk").dir(dir.resolve("b")).shared(8).start();
                GatewayRig rig = GatewayRig.start("  iopolicy: round-robin\n", List.of(a.uri(), b.uri()))) {
            String uri = rig.uri();

            Tools.Result info = Tools.run(GatewayRig.TOOL_TIMEOUT, "nbdinfo", "--json", uri).assertOk();
            assertTrue(info.stdout().contains("\"export-size\": " + SIZE), info.stdout());

            Tools.run(GatewayRig.TOOL_TIMEOUT, "qemu-io", "-f", "raw", "-c", "write -P 0xab 0 1M",
                    "-c", "write -P 0xcd 5M 3M", "-c", "read -P 0xab 0 1M", "-c", "read -P 0xcd 5M 3M", uri)
                    .assertOk();
            // the bytes are on the shared disk itself, not only in some cache of the gateway
            byte[] onDisk = Images.read(image, 5L << 20, 4096);
            byte[] expected = new byte[4096];
            java.util.Arrays.fill(expected, (byte) 0xcd);
            assertArrayEquals(expected, onDisk);

            // a random source image copied in with nbdcopy (several connections if the export allows) and compared
            Path source = dir.resolve("source.img");
            Files.write(source, Images.pattern(42, (int) SIZE));
            Tools.run(GatewayRig.TOOL_TIMEOUT, "nbdcopy", source.toString(), uri).assertOk();
            Tools.run(GatewayRig.TOOL_TIMEOUT, "qemu-img", "compare", "-f", "raw", "-F", "raw",
                    source.toString(), uri).assertOk();
            Path back = dir.resolve("back.img");
            Tools.run(GatewayRig.TOOL_TIMEOUT, "qemu-img", "convert", "-f", "raw", "-O", "raw", uri,
                    back.toString()).assertOk();
            assertEquals(-1L, Files.mismatch(source, back));

            // round-robin: both paths carried I/O
            assertTrue(rig.path(0).requests() > 0 && rig.path(1).requests() > 0, rig.describePaths());
        }
    }
}
