package io.mpathnbd.server.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The CLI's trust for an admin API served over HTTPS: the CA certificates of {@code --admin-ca-file} (PEM), or the
 * JVM's default trust store without one. The server's host name is checked by the HTTP client either way.
 */
final class AdminTrust {
    private AdminTrust() {
    }

    static SSLContext context(String caFile) {
        try {
            if (caFile == null) {
                return SSLContext.getDefault();
            }
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int n = 0;
            for (Certificate ca : read(caFile)) {
                store.setCertificateEntry("ca-" + n++, ca);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new CliException("--admin-ca-file " + caFile + ": cannot use it: " + e.getMessage(), e);
        }
    }

    private static Collection<? extends Certificate> read(String caFile) throws IOException, GeneralSecurityException {
        try (InputStream in = Files.newInputStream(Path.of(caFile))) {
            Collection<? extends Certificate> all = CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (all.isEmpty()) {
                throw new CliException("--admin-ca-file " + caFile + ": no PEM certificate in it");
            }
            return all;
        } catch (NoSuchFileException e) {
            throw new CliException("--admin-ca-file " + caFile + ": no such file");
        }
    }
}
