package io.mpathnbd.core.tls;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.support.TestPki;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlsContextsTest {
    @TempDir
    Path tmp;

    @Test
    void buildsBothRolesFromTheDirectoryLayoutOfNbdkitAndQemu() throws Exception {
        TestPki pki = new TestPki("ca");
        Path dir = pki.writeDirectory(tmp, pki.server(), pki.client("c"));
        SslContext server = TlsContexts.server(CertificateFiles.serverDirectory(dir), ClientAuth.REQUIRE,
                SslProvider.JDK);
        SslContext client = TlsContexts.client(CertificateFiles.clientDirectory(dir), SslProvider.JDK);
        assertTrue(server.isServer());
        assertTrue(client.isClient());
    }

    @Test
    void aCertificateBesideAKeyThatIsNotItsOwnIsRefused() throws Exception {
        TestPki pki = new TestPki("ca");
        Path dir = pki.writeDirectory(tmp, pki.server(), null);
        Files.writeString(dir.resolve("server-key.pem"), pki.server().keyPem());
        TlsConfigException e = assertThrows(TlsConfigException.class, () -> TlsContexts.server(
                CertificateFiles.serverDirectory(dir), ClientAuth.NONE, SslProvider.JDK));
        assertTrue(e.getMessage().contains("do not make a working TLS server")
                && e.getMessage().contains("server-cert.pem"), e.getMessage());
    }

    @Test
    void saysWhichFileIsMissingOrBroken() throws Exception {
        TestPki pki = new TestPki("ca");
        Path dir = pki.writeDirectory(tmp, pki.server(), null);
        Files.delete(dir.resolve("server-key.pem"));
        TlsConfigException noKey = assertThrows(TlsConfigException.class, () -> TlsContexts.server(
                CertificateFiles.serverDirectory(dir), ClientAuth.NONE, SslProvider.JDK));
        assertTrue(noKey.getMessage().contains("server-cert.pem") && noKey.getMessage().contains("no private key"),
                noKey.getMessage());

        Files.writeString(dir.resolve("server-key.pem"), "not a key\n");
        TlsConfigException garbage = assertThrows(TlsConfigException.class, () -> TlsContexts.server(
                CertificateFiles.serverDirectory(dir), ClientAuth.NONE, SslProvider.JDK));
        assertTrue(garbage.getMessage().contains("server-key.pem"), garbage.getMessage());

        Files.delete(dir.resolve("ca-cert.pem"));
        TlsConfigException noCa = assertThrows(TlsConfigException.class,
                () -> TlsContexts.client(CertificateFiles.clientDirectory(dir), SslProvider.JDK));
        assertTrue(noCa.getMessage().contains("ca-cert.pem"), noCa.getMessage());
    }
}
