package io.mpathnbd.server;

import static io.mpathnbd.server.GatewayTestSupport.fileUri;
import static io.mpathnbd.server.GatewayTestSupport.image;
import static io.mpathnbd.server.GatewayTestSupport.nbdUri;
import static io.mpathnbd.server.GatewayTestSupport.twoPathGateway;
import static io.mpathnbd.server.GatewayTestSupport.writeAndVerify;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.export.Export;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.server.config.ConfigException;
import io.mpathnbd.server.config.GatewayConfig;
import io.mpathnbd.testing.peers.Images;
import io.mpathnbd.testing.peers.Tools;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The assembled gateway over real file: paths, driven by real NBD clients. */
class GatewayTest {
    @TempDir
    java.nio.file.Path dir;

    @BeforeAll
    static void tools() {
        Tools.require("nbdinfo", "qemu-io");
    }

    @Test
    void servesAnExportOverTwoPathsToRealClients() throws Exception {
        java.nio.file.Path img = image(dir, "disk.img");
        try (Gateway g = twoPathGateway(img, "round-robin")) {
            Export e = g.export("disk0");
            assertEquals(List.of("disk0"), g.exports().stream().map(Export::name).toList());
            assertNull(g.export("nope"));
            assertEquals(List.of("p0", "p1"), e.paths().stream().map(Path::id).toList());
            assertEquals("round-robin", e.ioPolicy());
            assertEquals(GatewayTestSupport.IMAGE_SIZE, e.size());
            assertEquals(InetAddress.getLoopbackAddress(), g.nbdAddress().getAddress());
            assertEquals(InetAddress.getLoopbackAddress(), g.adminAddress().getAddress());

            Tools.Result info = Tools.run(GatewayTestSupport.TOOL_TIMEOUT, "nbdinfo", "--json", nbdUri(g, "disk0"))
                    .assertOk();
            assertTrue(info.stdout().contains("\"export-size\": " + GatewayTestSupport.IMAGE_SIZE), info.describe());

            Tools.Result rw = writeAndVerify(nbdUri(g, "disk0"), 1 << 20, 0x5a).assertOk();
            assertTrue(!rw.stdout().contains("failed"), rw.describe());
            byte[] expected = new byte[1 << 20];
            Arrays.fill(expected, (byte) 0x5a);
            assertArrayEquals(expected, Images.read(img, 1 << 20, 1 << 20), "the data reached the image");
            // round-robin over both paths: both carried requests
            assertTrue(e.path("p0").requests() > 0 && e.path("p1").requests() > 0,
                    "p0 " + e.path("p0").requests() + ", p1 " + e.path("p1").requests());
        }
    }

    @Test
    void theEmptyExportNameMeansTheFirstExport() throws Exception {
        java.nio.file.Path a = image(dir, "a.img");
        java.nio.file.Path b = Images.sparse(dir, "b.img", 2L << 20);
        GatewayConfig c = GatewayConfig.inline("127.0.0.1:0", "127.0.0.1:0",
                List.of("first=" + fileUri(a), "second=" + fileUri(b)), null);
        try (Gateway g = Gateway.start(c)) {
            GatewayTestSupport.awaitReady(g.export("first"));
            GatewayTestSupport.awaitReady(g.export("second"));
            Tools.Result list = Tools.run(GatewayTestSupport.TOOL_TIMEOUT, "nbdinfo", "--list",
                    "nbd://127.0.0.1:" + g.nbdAddress().getPort()).assertOk();
            assertTrue(list.stdout().contains("first") && list.stdout().contains("second"), list.describe());
            Tools.Result dflt = Tools.run(GatewayTestSupport.TOOL_TIMEOUT, "nbdinfo", "--size",
                    "nbd://127.0.0.1:" + g.nbdAddress().getPort()).assertOk();
            assertEquals(String.valueOf(GatewayTestSupport.IMAGE_SIZE), dflt.stdout().strip());
            Tools.Result second = Tools.run(GatewayTestSupport.TOOL_TIMEOUT, "nbdinfo", "--size",
                    nbdUri(g, "second")).assertOk();
            assertEquals(String.valueOf(2L << 20), second.stdout().strip());
        }
    }

    @Test
    void aTakenPortFailsTheStartWithTheAddress() throws Exception {
        java.nio.file.Path img = image(dir, "disk.img");
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String at = "127.0.0.1:" + taken.getLocalPort();
            GatewayConfig c = GatewayConfig.inline(at, "127.0.0.1:0", List.of("d=" + fileUri(img)), null);
            GatewayStartException e = assertThrows(GatewayStartException.class, () -> Gateway.start(c));
            assertTrue(e.getMessage().startsWith("cannot listen for NBD on " + at + ": "), e.getMessage());

            GatewayConfig c2 = GatewayConfig.inline("127.0.0.1:0", at, List.of("d=" + fileUri(img)), null);
            e = assertThrows(GatewayStartException.class, () -> Gateway.start(c2));
            assertTrue(e.getMessage().startsWith("cannot listen for admin API on " + at + ": "), e.getMessage());
        }
    }

    @Test
    void closeReleasesTheListeners() throws Exception {
        java.nio.file.Path img = image(dir, "disk.img");
        int nbd;
        int admin;
        try (Gateway g = twoPathGateway(img, null)) {
            nbd = g.nbdAddress().getPort();
            admin = g.adminAddress().getPort();
        }
        // the same ports can be bound again at once
        GatewayConfig c = GatewayConfig.inline("127.0.0.1:" + nbd, "127.0.0.1:" + admin,
                List.of("disk0=" + fileUri(img)), null);
        try (Gateway g = Gateway.start(c)) {
            assertEquals(nbd, g.nbdAddress().getPort());
            assertEquals(admin, g.adminAddress().getPort());
        }
    }

    @Test
    void aUriTheTransportRejectsNamesItsKey() {
        GatewayConfig c = GatewayConfig.parse("""
                listen: 127.0.0.1:0
                admin: 127.0.0.1:0
                exports:
                  - name: d
                    paths:
                      - file:/a
                      - file://otherhost/x
                """);
        ConfigException e = assertThrows(ConfigException.class, () -> Gateway.start(c));
        assertEquals("exports[0].paths[1].uri: file URI 'file://otherhost/x' names host 'otherhost': only local"
                + " files are supported (use file:/path or file:///path)", e.getMessage());
    }
}
