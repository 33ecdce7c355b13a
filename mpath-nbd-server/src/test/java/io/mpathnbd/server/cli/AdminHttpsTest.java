package io.mpathnbd.server.cli;

import static io.mpathnbd.server.GatewayTestSupport.adminAddress;
import static io.mpathnbd.server.GatewayTestSupport.image;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.path.PathState;
import io.mpathnbd.core.support.TestPki;
import io.mpathnbd.server.Gateway;
import io.mpathnbd.server.GatewayTestSupport;
import io.mpathnbd.server.config.ConfigException;
import io.mpathnbd.server.config.GatewayConfig;
import io.mpathnbd.testing.peers.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin API over HTTPS ({@code admin-tls}) on a real gateway, reached with curl and with the CLI: the CA that
 * signed the certificate is trusted, another CA and plain HTTP are not, the token still decides, and a certificate
 * the gateway cannot load stops it from starting with a message naming the file.
 */
class AdminHttpsTest {
    private static final String TOKEN = "https-admin-token-9Qw2Zx7Lp4";
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    static Path dir;
    static Path tokenFile;
    static Path pki;
    static Path otherCa;
    static Gateway gateway;
    static String https;

    @BeforeAll
    static void start() throws Exception {
        TestPki ca = new TestPki("admin-ca");
        pki = ca.writeDirectory(dir.resolve("pki"), ca.server(), null);
        TestPki other = new TestPki("other-ca");
        otherCa = other.writeDirectory(dir.resolve("other"), null, null).resolve("ca-cert.pem");
        tokenFile = dir.resolve("admin.token");
        Files.writeString(tokenFile, TOKEN + "\n");
        gateway = GatewayTestSupport.twoPathGatewayWith(image(dir, "disk.img"), "admin-auth:\n  token-file: "
                + tokenFile + "\nadmin-tls:\n  certificates: " + pki + "\n");
        https = "https://" + adminAddress(gateway);
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    @Test
    void curlTrustingTheCaIsServedAndTheTokenStillDecides() {
        Tools.Result ok = Tools.run(TIMEOUT, "curl", "-sS", "--fail-with-body", "--cacert",
                pki.resolve("ca-cert.pem").toString(), "-H", "Authorization: Bearer " + TOKEN,
                https + "/api/exports/disk0").assertOk();
        assertTrue(ok.stdout().matches("(?s).*\"name\"\\s*:\\s*\"disk0\".*"), ok.stdout());

        Tools.Result noToken = Tools.run(TIMEOUT, "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                "--cacert", pki.resolve("ca-cert.pem").toString(), https + "/api/exports");
        assertEquals("401", noToken.stdout().strip(), noToken.describe());

        Tools.Result wrongCa = Tools.run(TIMEOUT, "curl", "-sS", "--cacert", otherCa.toString(), "-H",
                "Authorization: Bearer " + TOKEN, https + "/api/exports");
        assertEquals(60, wrongCa.exitCode(), "curl must refuse a certificate from another CA: "
                + wrongCa.describe());
    }

    @Test
    void plainHttpToTheHttpsPortGetsNoAnswer() {
        Tools.Result plain = Tools.run(TIMEOUT, "curl", "-sS", "-m", "20", "-H", "Authorization: Bearer " + TOKEN,
                "http://" + adminAddress(gateway) + "/api/exports");
        assertFalse(plain.ok(), plain.describe());
        assertFalse(plain.stdout().contains("disk0"), plain.describe());
    }

    @Test
    void theCliReachesItWithTheCaFileAndSaysWhatIsWrongWithout() {
        CliRun ok = CliRun.of("path", "fail", "--admin", https, "--admin-ca-file", pki.resolve("ca-cert.pem")
                .toString(), "--admin-token-file", tokenFile.toString(), "disk0", "p0");
        assertEquals(0, ok.exitCode(), ok.toString());
        GatewayTestSupport.awaitState(gateway.export("disk0"), "p0", PathState.DISABLED);
        CliRun back = CliRun.of("path", "reinstate", "--admin", https, "--admin-ca-file",
                pki.resolve("ca-cert.pem").toString(), "--admin-token-file", tokenFile.toString(), "disk0", "p0");
        assertEquals(0, back.exitCode(), back.toString());

        CliRun untrusted = CliRun.of("status", "--admin", https, "--admin-ca-file", otherCa.toString(),
                "--admin-token-file", tokenFile.toString());
        assertEquals(1, untrusted.exitCode(), untrusted.toString());
        assertTrue(untrusted.err().contains("over HTTPS") && untrusted.err().contains("--admin-ca-file"),
                untrusted.toString());
        assertFalse(untrusted.err().contains(TOKEN), untrusted.toString());

        CliRun caWithoutHttps = CliRun.of("status", "--admin", adminAddress(gateway), "--admin-ca-file",
                otherCa.toString());
        assertEquals(2, caWithoutHttps.exitCode(), caWithoutHttps.toString());
        assertTrue(caWithoutHttps.err().contains("--admin https://HOST:PORT"), caWithoutHttps.toString());
    }

    @Test
    void aCertificateThatCannotBeLoadedStopsTheStartNamingTheFile() throws Exception {
        Path broken = Files.createDirectories(dir.resolve("broken"));
        Files.copy(pki.resolve("server-cert.pem"), broken.resolve("server-cert.pem"));
        Files.writeString(broken.resolve("server-key.pem"), "-----BEGIN PRIVATE KEY-----\nAAAA\n"
                + "-----END PRIVATE KEY-----\n");
        GatewayConfig config = GatewayConfig.parse("listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nadmin-tls:\n"
                + "  certificates: " + broken + "\nexports:\n  - name: d\n    paths: ["
                + GatewayTestSupport.fileUri(image(dir, "other.img")) + "]\n");
        ConfigException e = assertThrows(ConfigException.class, () -> Gateway.start(config).close());
        assertTrue(e.getMessage().startsWith("admin-tls.certificates: ") && e.getMessage().contains("server-key.pem"),
                e.getMessage());

        ConfigException both = assertThrows(ConfigException.class, () -> GatewayConfig.parse(
                "admin-tls:\n  certificates: " + pki + "\n  cert-file: x.pem\nexports:\n  - name: d\n"
                        + "    paths: [file:///x]\n"));
        assertTrue(both.getMessage().contains("either certificates"), both.getMessage());
        ConfigException noKey = assertThrows(ConfigException.class, () -> GatewayConfig.parse(
                "admin-tls:\n  cert-file: x.pem\nexports:\n  - name: d\n    paths: [file:///x]\n"));
        assertEquals("admin-tls: key-file is missing", noKey.getMessage());
    }
}
