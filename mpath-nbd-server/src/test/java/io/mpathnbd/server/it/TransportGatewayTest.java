package io.mpathnbd.server.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mpathnbd.server.config.ConfigException;
import io.mpathnbd.server.config.GatewayConfig;
import io.mpathnbd.server.config.IoTransport;
import io.mpathnbd.testing.Tgtd;
import io.mpathnbd.testing.peers.Images;
import io.mpathnbd.testing.peers.NbdServer;
import io.mpathnbd.testing.peers.Tools;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The gateway on each event-loop transport ({@code transport:}) serves verified I/O through real backends: two
 * nbd-server paths taken in turn, and (io_uring, the newest) two tgtd iSCSI portals. The transport asked for is the
 * one that runs: this machine kind loads epoll and io_uring, so a silent fallback fails the test.
 */
class TransportGatewayTest {
    private static final long SIZE = 64L << 20;

    @TempDir
    Path dir;

    @BeforeAll
    static void tools() {
        Tools.require("nbd-server", "fio", "qemu-io", "tgtd");
    }

    @ParameterizedTest
    @ValueSource(strings = {"epoll", "io_uring", "nio"})
    void eachTransportServesVerifiedIoOverNbdPaths(String transport) throws Exception {
        Path image = Images.sparse(dir, "disk.img", SIZE);
        try (NbdServer a = NbdServer.start(dir.resolve("a"), "disk", image);
                NbdServer b = NbdServer.start(dir.resolve("b"), "disk", image);
                GatewayRig rig = GatewayRig.start("  iopolicy: round-robin\ntransport: " + transport + "\n",
                        List.of(a.uri(), b.uri()))) {
            assertEquals(IoTransport.of(transport), rig.gateway().eventLoops().transport());
            verifiedIo(rig, image);
        }
    }

    @Test
    void ioUringServesVerifiedIoOverIscsiPaths() throws Exception {
        Path image = Images.sparse(dir, "disk.img", SIZE);
        try (Tgtd tgtd = Tgtd.start(image);
                GatewayRig rig = GatewayRig.start("  iopolicy: round-robin\ntransport: io_uring\n",
                        List.of(tgtd.uri(0), tgtd.uri(1)))) {
            assertEquals(IoTransport.IO_URING, rig.gateway().eventLoops().transport());
            verifiedIo(rig, image);
        }
    }

    @Test
    void autoIsEpollAndAnUnknownTransportIsAConfigError() {
        assertEquals(IoTransport.EPOLL, IoTransport.AUTO.resolve());
        ConfigException e = assertThrows(ConfigException.class, () -> GatewayConfig.parse(
                "transport: uring\nexports:\n  - name: d\n    paths: [file:///x]\n"));
        assertTrue(e.getMessage().startsWith("transport: ") && e.getMessage().contains("io-uring"),
                e.getMessage());
    }

    private static void verifiedIo(GatewayRig rig, Path image) throws Exception {
        JsonNode fio = GatewayRig.fioOk(Tools.run(GatewayRig.TOOL_TIMEOUT, "fio", "--name=verify",
                "--ioengine=nbd", "--uri=" + rig.uri(), "--rw=randwrite", "--bs=4k", "--iodepth=16",
                "--size=16m", "--verify=crc32c", "--verify_fatal=1", "--verify_state_save=0",
                "--output-format=json"));
        assertEquals(16L << 20, fio.path("write").path("io_bytes").asLong());
        Tools.Result rw = Tools.run(GatewayRig.TOOL_TIMEOUT, "qemu-io", "-f", "raw", "-c",
                "write -P 0x5c 32M 1M", "-c", "read -P 0x5c 32M 1M", rig.uri()).assertOk();
        assertFalse(rw.stdout().contains("failed"), rw.describe());
        byte[] expected = new byte[4096];
        Arrays.fill(expected, (byte) 0x5c);
        assertArrayEquals(expected, Images.read(image, (32L << 20) + 8192, 4096), "the data reached the image");
        assertTrue(rig.path(0).requests() > 0 && rig.path(1).requests() > 0, rig.describePaths());
        assertEquals(0, rig.path(0).errors() + rig.path(1).errors(), rig.describePaths());
    }
}
