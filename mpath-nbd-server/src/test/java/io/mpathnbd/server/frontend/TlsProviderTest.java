package io.mpathnbd.server.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.support.TestPki;
import io.mpathnbd.server.Gateway;
import io.mpathnbd.server.GatewayTestSupport;
import io.mpathnbd.server.config.ConfigException;
import io.mpathnbd.server.config.GatewayConfig;
import io.mpathnbd.testing.peers.Tools;
import io.netty.handler.ssl.OpenSsl;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code tls.provider}: the same STARTTLS session works on BoringSSL (netty-tcnative) and on the JDK's engine, with
 * real clients: nbdsh over TLS 1.3 with a client certificate that an export's subject allow-list checks, and
 * Debian's nbd-client -l, which offers TLS 1.2 only. {@code auto} must pick BoringSSL on the Linux x86-64 machines the
 * tests run on, as the jar ships its native library for them.
 */
class TlsProviderTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    static Path dir;
    static TestPki pki;
    static Path serverDir;
    static Path clientDir;
    static Path strangerDir;

    @BeforeAll
    static void certificates() throws Exception {
        pki = new TestPki("provider-ca");
        serverDir = pki.writeDirectory(dir.resolve("server"), pki.server(), null);
        clientDir = pki.writeDirectory(dir.resolve("client"), null, pki.client("host-1"));
        strangerDir = pki.writeDirectory(dir.resolve("stranger"), null, pki.client("host-2"));
    }

    private static String yaml(String provider) {
        return "listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\n"
                + "tls:\n  mode: required\n  certificates: " + serverDir + "\n  client-certificates: optional\n"
                + "  provider: " + provider + "\n"
                + "exports:\n  - name: disk\n    allow:\n      - subject: \"CN=host-1,O=mpath-nbd tests\"\n"
                + "    paths: [" + GatewayTestSupport.fileUri(GatewayTestSupport.image(dir, provider + ".img")) + "]\n";
    }

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void startTlsWithClientCertificatesOnEitherProvider(String provider) throws Exception {
        GatewayConfig config = GatewayConfig.parse(yaml(provider));
        assertEquals("required (X.509, " + provider + ")", config.tls().describe());
        Gateway g = Gateway.start(config);
        try {
            GatewayTestSupport.awaitReady(g.export("disk"));
            String base = "nbds://127.0.0.1:" + g.nbdAddress().getPort() + "/disk?tls-certificates=";
            Tools.run(TIMEOUT, "nbdsh", "-c", String.join("\n",
                    "h.set_uri_allow_local_file(True)",
                    "h.connect_uri('" + base + clientDir + "')",
                    "h.pwrite(b'\\xc3' * 131072, 3 << 20)",
                    "assert h.pread(131072, 3 << 20) == b'\\xc3' * 131072",
                    "assert h.get_tls_negotiated()")).assertOk();
            // another certificate from the same CA passes TLS but not the export's subject list
            Tools.Result stranger = Tools.run(TIMEOUT, "nbdinfo", "--size", base + strangerDir);
            assertFalse(stranger.ok(), stranger.describe());

            Tools.Result list = Tools.run(TIMEOUT, "nbd-client", "-l", "127.0.0.1",
                    String.valueOf(g.nbdAddress().getPort()),
                    "-certfile", clientDir.resolve("client-cert.pem").toString(),
                    "-keyfile", clientDir.resolve("client-key.pem").toString(),
                    "-cacertfile", clientDir.resolve("ca-cert.pem").toString(), "-tlshostname", "localhost");
            assertTrue(list.stdout().contains("disk"), "nbd-client -l (TLS 1.2) on " + provider + ": "
                    + list.describe());
        } finally {
            g.close();
        }
    }

    @Test
    void autoTakesBoringSslWhereItLoadsAndABadNameIsAConfigError() {
        assertTrue(OpenSsl.isAvailable(), "netty-tcnative should load on linux-x86_64: "
                + OpenSsl.unavailabilityCause());
        assertEquals("required (X.509, openssl)", GatewayConfig.parse(yaml("auto")).tls().describe());
        ConfigException bad = assertThrows(ConfigException.class, () -> GatewayConfig.parse(yaml("gnutls")));
        assertTrue(bad.getMessage().contains("tls.provider") && bad.getMessage().contains("gnutls")
                && bad.getMessage().contains("openssl"), bad.getMessage());
    }
}
