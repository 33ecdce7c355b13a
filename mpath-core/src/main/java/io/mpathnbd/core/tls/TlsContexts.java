package io.mpathnbd.core.tls;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.util.Optional;
import javax.net.ssl.SSLException;

/**
 * Builds Netty TLS contexts from {@link CertificateFiles}. Only TLS 1.3 and 1.2 are enabled: 1.2 because Debian's
 * nbd-client offers nothing newer. A client verifies the server's certificate against the CA and its host name or
 * IP address (the caller passes the host to {@code SslContext.newHandler(alloc, host, port)}).
 */
public final class TlsContexts {
    static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private TlsContexts() {
    }

    /**
     * A server context; {@code clientAuth} says whether clients must, may or need not present a certificate. The
     * certificate and key are proven to belong together first ({@link TlsSelfTest}).
     */
    public static SslContext server(CertificateFiles files, ClientAuth clientAuth, SslProvider provider)
            throws TlsConfigException {
        files.check(CertificateFiles.Role.SERVER, clientAuth != ClientAuth.NONE, "TLS server");
        try {
            SslContextBuilder builder = SslContextBuilder
                    .forServer(files.cert().orElseThrow().toFile(), files.key().orElseThrow().toFile())
                    .sslProvider(provider).protocols(PROTOCOLS).clientAuth(clientAuth);
            files.ca().ifPresent(ca -> builder.trustManager(ca.toFile()));
            SslContext context = builder.build();
            // the JDK's engines prove the pair whichever provider serves: the proof is about the files
            TlsSelfTest.check(files, SslProvider.JDK);
            return context;
        } catch (SSLException | IllegalArgumentException e) {
            throw new TlsConfigException("TLS server: cannot load " + describe(files) + ": " + reason(e), e);
        }
    }

    /** A client context trusting only the files' CA, presenting the files' certificate when there is one. */
    public static SslContext client(CertificateFiles files, SslProvider provider) throws TlsConfigException {
        files.check(CertificateFiles.Role.CLIENT, true, "TLS client");
        try {
            SslContextBuilder builder = SslContextBuilder.forClient().sslProvider(provider).protocols(PROTOCOLS)
                    .trustManager(files.ca().orElseThrow().toFile())
                    .endpointIdentificationAlgorithm("HTTPS");
            if (files.cert().isPresent()) {
                builder.keyManager(files.cert().get().toFile(), files.key().orElseThrow().toFile());
            }
            return builder.build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new TlsConfigException("TLS client: cannot load " + describe(files) + ": " + reason(e), e);
        }
    }

    private static String describe(CertificateFiles files) {
        StringBuilder out = new StringBuilder();
        for (Optional<java.nio.file.Path> file : java.util.List.of(files.ca(), files.cert(), files.key())) {
            file.ifPresent(f -> out.append(out.length() == 0 ? "" : ", ").append(f));
        }
        return out.toString();
    }

    private static String reason(Exception e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }
}
