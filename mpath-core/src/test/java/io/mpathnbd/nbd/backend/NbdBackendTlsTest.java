package io.mpathnbd.nbd.backend;

import static io.mpathnbd.nbd.backend.BackendHarness.read;
import static io.mpathnbd.nbd.backend.BackendHarness.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.BackendDriver;
import io.mpathnbd.core.backend.BackendException;
import io.mpathnbd.core.backend.DriverOptions;
import io.mpathnbd.core.backend.TransportOptions;
import io.mpathnbd.core.support.TestPki;
import io.mpathnbd.testing.peers.Images;
import io.mpathnbd.testing.peers.Nbdkit;
import io.mpathnbd.testing.peers.QemuNbd;
import io.mpathnbd.testing.peers.Tools;
import io.netty.handler.ssl.SslHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code nbds://} against real TLS servers (nbdkit {@code --tls=require}, qemu-nbd with {@code tls-creds-x509}):
 * data over TLS, and every way the server's certificate or the server itself must be refused.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NbdBackendTlsTest {
    private static final long SIZE = 16L << 20;

    @TempDir
    Path tmp;

    private final TestPki pki = new TestPki("gateway test CA");
    private final BackendHarness harness = new BackendHarness();

    @BeforeAll
    static void tools() {
        Tools.require("nbdkit", "qemu-nbd");
    }

    @AfterEach
    void tearDown() {
        harness.close();
    }

    private Path serverDir(TestPki.Issued server) {
        return pki.writeDirectory(tmp.resolve("server-" + System.nanoTime()), server, null);
    }

    private Path clientDir(TestPki ca, TestPki.Issued client) {
        return ca.writeDirectory(tmp.resolve("client-" + System.nanoTime()), null, client);
    }

    private static DriverOptions tls(Path clientDir, String... more) {
        TransportOptions t = TransportOptions.of(Map.of(NbdTlsOptions.CERTIFICATES, clientDir.toString()));
        for (int i = 0; i < more.length; i += 2) {
            t = t.with(more[i], more[i + 1]);
        }
        return DriverOptions.defaults().withTransport(t);
    }

    private static void roundTrip(NbdSession s) {
        byte[] data = Images.pattern(7, 1 << 20);
        write(s, 0, 4096, data).assertOk();
        assertArrayEquals(data, read(s, 4096, data.length));
    }

    private static void assertTlsPipeline(NbdSession s) {
        for (int i = 0; i < s.connectionCount(); i++) {
            assertNotNull(s.connection(i).channel().pipeline().get(SslHandler.class), "every connection runs over TLS");
        }
    }

    @Test
    void nbdkitRequiringTls() {
        try (Nbdkit kit = Nbdkit.builder().dir(tmp).tls(serverDir(pki.server()), false).memory(SIZE).start()) {
            NbdSession s = harness.connect(kit.tlsUri(), tls(clientDir(pki, null)));
            assertEquals(SIZE, s.info().size());
            assertEquals(4, s.connectionCount(), "multi-conn over TLS: one handshake per connection");
            assertTlsPipeline(s);
            roundTrip(s);
            BackendException plain = harness.connectFails(kit.uri(), DriverOptions.defaults());
            assertTrue(plain.getMessage().contains("requires TLS"), plain.getMessage());
        }
    }

    @Test
    void qemuNbdWithTlsCreds() {
        Path image = Images.sparse(tmp, "disk.img", SIZE);
        try (QemuNbd q = QemuNbd.builder().image(image).dir(tmp).tls(serverDir(pki.server()), false).start()) {
            NbdSession s = harness.connect(q.tlsUri(), tls(clientDir(pki, null)));
            assertEquals(SIZE, s.info().size());
            assertTlsPipeline(s);
            roundTrip(s);
            byte[] data = Images.pattern(7, 1 << 20);
            assertArrayEquals(data, Images.read(image, 4096, data.length), "the data reached the image");
        }
    }

    @Test
    void qemuNbdVerifyingPeersWantsTheGatewaysClientCertificate() {
        // qemu's server side verifies client certificates by default (verify-peer=on); the test above runs it off
        Path image = Images.sparse(tmp, "verified.img", SIZE);
        try (QemuNbd q = QemuNbd.builder().image(image).dir(tmp).tls(serverDir(pki.server()), true).start()) {
            BackendException without = harness.connectFails(q.tlsUri(), tls(clientDir(pki, null)));
            assertPathError(without);
            BackendException stranger = harness.connectFails(q.tlsUri(),
                    tls(clientDir(pki, new TestPki("stranger CA").client("gateway"))));
            assertPathError(stranger);
            NbdSession s = harness.connect(q.tlsUri(), tls(clientDir(pki, pki.client("gateway"))));
            assertTlsPipeline(s);
            roundTrip(s);
        }
    }

    @Test
    void clientCertificateForAServerThatVerifiesPeers() {
        try (Nbdkit kit = Nbdkit.builder().dir(tmp).tls(serverDir(pki.server()), true).memory(SIZE).start()) {
            BackendException without = harness.connectFails(kit.tlsUri(), tls(clientDir(pki, null)));
            assertPathError(without);
            assertTrue(without.getMessage().contains("client certificate"), without.getMessage());
            NbdSession s = harness.connect(kit.tlsUri(), tls(clientDir(pki, pki.client("gateway"))));
            roundTrip(s);
        }
    }

    @Test
    void serverCertificateFromAnotherCa() {
        try (Nbdkit kit = Nbdkit.builder().dir(tmp).tls(serverDir(pki.server()), false).memory(SIZE).start()) {
            BackendException e = harness.connectFails(kit.tlsUri(), tls(clientDir(new TestPki("other CA"), null)));
            assertPathError(e);
            assertTrue(e.getMessage().contains("TLS handshake failed") && e.getMessage().contains("PKIX"),
                    e.getMessage());
        }
    }

    @Test
    void expiredServerCertificate() {
        try (Nbdkit kit = Nbdkit.builder().dir(tmp).tls(serverDir(pki.expiredServer()), false).memory(SIZE)
                .start()) {
            BackendException e = harness.connectFails(kit.tlsUri(), tls(clientDir(pki, null)));
            assertPathError(e);
            assertTrue(e.getMessage().contains("TLS handshake failed"), e.getMessage());
        }
    }

    @Test
    void hostNameMismatchUnlessTheExpectedNameIsConfigured() {
        try (Nbdkit kit = Nbdkit.builder().dir(tmp).tls(serverDir(pki.serverFor("other.example")), false)
                .memory(SIZE).start()) {
            Path client = clientDir(pki, null);
            BackendException e = harness.connectFails(kit.tlsUri(), tls(client));
            assertPathError(e);
            assertTrue(e.getMessage().contains("127.0.0.1"), "names the address the certificate lacks: "
                    + e.getMessage());
            BackendException wrongName = harness.connectFails(kit.tlsUri(),
                    tls(client, NbdTlsOptions.HOSTNAME, "third.example"));
            assertPathError(wrongName);
            roundTrip(harness.connect(kit.tlsUri(), tls(client, NbdTlsOptions.HOSTNAME, "other.example")));
        }
    }

    @Test
    void serverWithoutTlsIsNeverUsedInClearText() {
        try (Nbdkit kit = Nbdkit.builder().dir(tmp).memory(SIZE).start()) {
            BackendException e = harness.connectFails(kit.tlsUri(), tls(clientDir(pki, null)));
            assertTrue(e.getMessage().contains("refused STARTTLS: NBD_REP_ERR_POLICY"), e.getMessage());
            assertTrue(e.getMessage().startsWith("nbds://127.0.0.1:" + kit.port()), e.getMessage());
        }
    }

    @Test
    void unusableCertificateFilesFailWhenThePathIsConfigured() {
        Path empty = tmp.resolve("empty");
        IllegalArgumentException noCa = assertThrows(IllegalArgumentException.class,
                () -> harness.drivers.create("nbds://127.0.0.1:1/x", tls(empty)));
        assertTrue(noCa.getMessage().contains(empty.resolve("ca-cert.pem").toString()), noCa.getMessage());
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> harness.drivers.create("nbds://127.0.0.1:1/x", DriverOptions.defaults()));
        assertTrue(none.getMessage().contains("no CA certificate"), none.getMessage());
        Path client = clientDir(pki, pki.client("gw"));
        Path missingKey = tmp.resolve("nope-key.pem");
        IllegalArgumentException key = assertThrows(IllegalArgumentException.class,
                () -> harness.drivers.create("nbds://127.0.0.1:1/x",
                        tls(client, NbdTlsOptions.KEY_FILE, missingKey.toString())));
        assertTrue(key.getMessage().contains(missingKey.toString()), key.getMessage());
    }

    @Test
    void renewedCaIsUsedFromTheNextConnectOn() throws Exception {
        TestPki next = new TestPki("next CA");
        Path serverDir = next.writeDirectory(tmp.resolve("next-server"), next.server(), null);
        Path client = clientDir(pki, null);
        try (Nbdkit kit = Nbdkit.builder().dir(tmp).tls(serverDir, false).memory(SIZE).start()) {
            BackendDriver driver = harness.driver(kit.tlsUri(), tls(client));
            BackendException before = harness.connectFails(driver);
            assertTrue(before.getMessage().contains("PKIX"), before.getMessage());
            Path ca = client.resolve("ca-cert.pem");
            FileTime old = Files.getLastModifiedTime(ca);
            Files.writeString(ca, "not a certificate\n");
            // a clock that ticks coarsely must still see a change
            Files.setLastModifiedTime(ca, FileTime.from(old.toInstant().plusSeconds(5)));
            BackendException broken = harness.connectFails(driver);
            assertTrue(broken.getMessage().contains("PKIX"), "the previous CA is kept: " + broken.getMessage());
            Files.writeString(ca, next.caPem());
            Files.setLastModifiedTime(ca, FileTime.from(old.toInstant().plusSeconds(10)));
            roundTrip(harness.connect(driver));
        }
    }

    private static void assertPathError(BackendException e) {
        assertFalse(e.isConfigurationError(), "a certificate problem is retried like any path error: " + e);
    }
}
