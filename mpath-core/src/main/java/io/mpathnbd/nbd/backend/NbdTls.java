package io.mpathnbd.nbd.backend;

import io.mpathnbd.core.backend.TransportOptions;
import io.mpathnbd.core.tls.CertificateFiles;
import io.mpathnbd.core.tls.TlsConfigException;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslHandler;
import java.nio.file.Path;
import java.util.Optional;
import javax.net.ssl.SSLSession;

/**
 * The TLS side of one {@code nbds://} path: a client context loaded when the path is configured and shared by all
 * its connections (reloaded on a connect after its files changed), and the host name the server's certificate must
 * match.
 */
final class NbdTls {
    /** One full TLS record per wrap: the least framing per byte, and a 4 KiB write's header shares its record. */
    static final int WRAP_DATA_SIZE = 16 * 1024;

    private final ReloadingClientContext context;
    private final String hostname;

    private NbdTls(ReloadingClientContext context, String hostname) {
        this.context = context;
        this.hostname = hostname;
    }

    /**
     * The TLS settings of {@code options} for {@code target}; {@link IllegalArgumentException} naming the missing or
     * unreadable file when they cannot make a client context.
     */
    static NbdTls of(NbdTarget target, TransportOptions options) {
        CertificateFiles files = files(options);
        if (files.ca().isEmpty()) {
            String dir = options.get(NbdTlsOptions.CERTIFICATES);
            throw new IllegalArgumentException(target.display() + ": no CA certificate to verify the server with ("
                    + (dir == null ? "give backend-tls certificates: DIR holding " + CertificateFiles.CA
                            + ", or ca-file:" : "no " + Path.of(dir).resolve(CertificateFiles.CA)) + ")");
        }
        try {
            ReloadingClientContext context = new ReloadingClientContext(files, target.display());
            String hostname = options.get(NbdTlsOptions.HOSTNAME);
            return new NbdTls(context, hostname == null || hostname.isBlank() ? target.host() : hostname.trim());
        } catch (TlsConfigException e) {
            throw new IllegalArgumentException(target.display() + ": " + e.getMessage(), e);
        }
    }

    private static CertificateFiles files(TransportOptions options) {
        String dir = options.get(NbdTlsOptions.CERTIFICATES);
        CertificateFiles base = dir == null
                ? new CertificateFiles(Optional.empty(), Optional.empty(), Optional.empty())
                : CertificateFiles.clientDirectory(Path.of(dir));
        return new CertificateFiles(file(options, NbdTlsOptions.CA_FILE, base.ca()),
                file(options, NbdTlsOptions.CERT_FILE, base.cert()), file(options, NbdTlsOptions.KEY_FILE, base.key()));
    }

    private static Optional<Path> file(TransportOptions options, String key, Optional<Path> fallback) {
        String v = options.get(key);
        return v == null ? fallback : Optional.of(Path.of(v));
    }

    /** The name checked against the server's certificate (DNS name or IP address). */
    String hostname() {
        return hostname;
    }

    /** The TLS version and cipher suite of a connection, and the name its certificate was checked for. */
    String describe(NbdConnection connection) {
        SslHandler handler = connection.channel().pipeline().get(SslHandler.class);
        if (handler == null) {
            return "TLS (closed)";
        }
        SSLSession session = handler.engine().getSession();
        return session.getProtocol() + " " + session.getCipherSuite() + " (certificate checked for " + hostname + ")";
    }

    /** A client handler that verifies the server's certificate against the CA and {@link #hostname()}. */
    SslHandler newHandler(ByteBufAllocator alloc, int port) {
        SslHandler handler = context.current().newHandler(alloc, hostname, port);
        handler.setWrapDataSize(WRAP_DATA_SIZE);
        return handler;
    }
}
