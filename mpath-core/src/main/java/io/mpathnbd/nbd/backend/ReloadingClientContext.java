package io.mpathnbd.nbd.backend;

import io.mpathnbd.core.tls.CertificateFiles;
import io.mpathnbd.core.tls.TlsConfigException;
import io.mpathnbd.core.tls.TlsContexts;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TLS client context that follows its files: a renewed CA or client certificate is used from the next connect
 * on, without a restart. Each connect stats the files (a few syscalls, never per request); a set that does not load
 * (e.g. a certificate written before its key) keeps the previous context and is tried again on the next connect.
 */
final class ReloadingClientContext {
    private static final Logger LOG = LoggerFactory.getLogger(ReloadingClientContext.class);

    private final CertificateFiles files;
    private final String display;
    private List<Object> stamp;
    private SslContext context;

    /** Loads the files now: {@link TlsConfigException} naming the file when they cannot make a context. */
    ReloadingClientContext(CertificateFiles files, String display) throws TlsConfigException {
        this.files = files;
        this.display = display;
        this.stamp = stamp(files);
        this.context = build(files);
    }

    /** The context of the files as they are now. */
    synchronized SslContext current() {
        List<Object> now = stamp(files);
        if (!now.equals(stamp)) {
            try {
                context = build(files);
                stamp = now;
                LOG.info("{}: TLS files changed, using them from now on", display);
            } catch (TlsConfigException e) {
                LOG.warn("{}: TLS files changed but cannot be used, keeping the previous ones: {}", display,
                        e.getMessage());
            }
        }
        return context;
    }

    private static SslContext build(CertificateFiles files) throws TlsConfigException {
        // the JDK provider: netty-tcnative is not a dependency
        return TlsContexts.client(files, SslProvider.JDK);
    }

    private static List<Object> stamp(CertificateFiles files) {
        List<Object> out = new ArrayList<>();
        for (Optional<Path> f : List.of(files.ca(), files.cert(), files.key())) {
            if (f.isEmpty()) {
                out.add(null);
                continue;
            }
            try {
                out.add(Files.getLastModifiedTime(f.get()));
                out.add(Files.size(f.get()));
            } catch (IOException e) {
                out.add("unreadable");
            }
        }
        return out;
    }
}
