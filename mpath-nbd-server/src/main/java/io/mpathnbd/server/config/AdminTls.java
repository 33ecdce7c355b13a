package io.mpathnbd.server.config;

import io.mpathnbd.core.tls.CertificateFiles;
import io.mpathnbd.core.tls.TlsConfigException;
import io.mpathnbd.core.tls.TlsContexts;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslProvider;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * HTTPS for the admin API ({@code admin-tls:}): the server certificate and key, from a directory in the layout
 * nbdkit and qemu use ({@code certificates: DIR} with {@code server-cert.pem}, {@code server-key.pem}) or from two
 * files ({@code cert-file}, {@code key-file}). Without the section the admin API speaks plain HTTP. The bearer
 * token ({@link AdminAuth}) still authenticates; HTTPS keeps it and the answers from being read on the wire.
 */
public final class AdminTls {
    static final String KEY = "admin-tls";
    static final List<String> KEYS = List.of("certificates", "cert-file", "key-file");

    private static final AdminTls OFF = new AdminTls(null, "");

    private final CertificateFiles files;
    private final String where;

    private AdminTls(CertificateFiles files, String where) {
        this.files = files;
        this.where = where;
    }

    public static AdminTls off() {
        return OFF;
    }

    /** The {@code admin-tls:} section of the top level, or {@link #off()} without one. Files are checked at start. */
    static AdminTls read(Section parent) {
        if (!parent.has(KEY)) {
            return OFF;
        }
        Section s = Section.of(parent.raw(KEY), KEY);
        s.allowOnly(KEYS);
        String dir = s.string("certificates", null);
        String cert = s.string("cert-file", null);
        String key = s.string("key-file", null);
        if (dir != null && (cert != null || key != null)) {
            throw new ConfigException(KEY + ": give either certificates (a directory with server-cert.pem and"
                    + " server-key.pem) or cert-file and key-file, not both");
        }
        if (dir == null && (cert == null || key == null)) {
            throw new ConfigException(KEY + ": " + (cert == null && key == null
                    ? "needs certificates: DIR (with server-cert.pem and server-key.pem), or cert-file and key-file"
                    : (cert == null ? "cert-file" : "key-file") + " is missing"));
        }
        CertificateFiles files = dir != null ? CertificateFiles.serverDirectory(Path.of(dir))
                : new CertificateFiles(Optional.empty(), Optional.of(Path.of(cert)), Optional.of(Path.of(key)));
        return new AdminTls(files, dir != null ? s.where("certificates") : s.where("cert-file"));
    }

    public boolean enabled() {
        return files != null;
    }

    /** The server context, for {@link #enabled()} only; a {@link ConfigException} names the file that is wrong. */
    public SslContext context() {
        if (files == null) {
            throw new IllegalStateException("admin-tls is off");
        }
        try {
            return TlsContexts.server(files, ClientAuth.NONE, SslProvider.JDK);
        } catch (TlsConfigException e) {
            throw new ConfigException(where + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return files == null ? "admin-tls(off)" : "admin-tls(" + files.cert().orElseThrow() + ")";
    }
}
