package io.mpathnbd.server.tls;

import io.mpathnbd.core.tls.CertificateFiles;
import io.mpathnbd.core.tls.TlsConfigException;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One listener's TLS context, replaced when its files change. The danger in rotating certificates is a half-written
 * or mismatched file set (a new certificate beside the old key): loading it would break every new connection. So a
 * new set is used only once it loads as a whole; until then the old context stays in use and an ERROR names the
 * file. Files are compared by content, not time stamps, so a directory swapped by symlink (as Kubernetes does with
 * secrets) is seen too. Established connections keep the context they were made with.
 */
public final class ReloadingContext {
    private static final Logger LOG = LoggerFactory.getLogger(ReloadingContext.class);

    /** Builds a context from the files; the listener decides the role and the client authentication. */
    @FunctionalInterface
    public interface Builder {
        SslContext build(CertificateFiles files) throws TlsConfigException;
    }

    private final String name;
    private final CertificateFiles files;
    private final Builder builder;
    private final Consumer<Boolean> outcomes;
    private volatile SslContext current;
    private byte[] loadedDigest;

    private ReloadingContext(String name, CertificateFiles files, Builder builder, Consumer<Boolean> outcomes,
            SslContext first, byte[] digest) {
        this.name = name;
        this.files = files;
        this.builder = builder;
        this.outcomes = outcomes;
        this.current = first;
        this.loadedDigest = digest;
    }

    /**
     * Loads the files once; fails (naming the file) when they cannot be used, as at start nothing is there to fall
     * back on.
     *
     * @param name     the listener, for log lines ("NBD", "admin API")
     * @param outcomes told {@code true} for each reload that took effect, {@code false} for each that failed
     */
    public static ReloadingContext load(String name, CertificateFiles files, Builder builder,
            Consumer<Boolean> outcomes) throws TlsConfigException {
        byte[] digest = digest(files);
        return new ReloadingContext(name, files, builder, outcomes, builder.build(files), digest);
    }

    /** The context for a new connection. */
    public SslContext current() {
        return current;
    }

    /** Reloads when the files' contents differ from the ones in use; returns whether a new context took effect. */
    public synchronized boolean reloadIfChanged() {
        byte[] now;
        try {
            now = digest(files);
        } catch (TlsConfigException e) {
            return failed(e);
        }
        if (Arrays.equals(now, loadedDigest)) {
            return false;
        }
        return load(now, "its files changed");
    }

    /** Reloads whatever the files hold now ({@code why} says who asked, e.g. SIGHUP). */
    public synchronized boolean reload(String why) {
        try {
            return load(digest(files), why);
        } catch (TlsConfigException e) {
            return failed(e);
        }
    }

    private boolean load(byte[] digest, String why) {
        try {
            current = builder.build(files);
        } catch (TlsConfigException e) {
            loadedDigest = digest; // the same broken set is reported once, not on every check
            return failed(e);
        }
        loadedDigest = digest;
        LOG.info("{} TLS: certificates reloaded ({}): new connections use {}", name, why,
                files.cert().map(Path::toString).orElse("the new files"));
        outcomes.accept(true);
        return true;
    }

    private boolean failed(TlsConfigException e) {
        LOG.error("{} TLS: certificates not reloaded, the ones loaded before stay in use: {}", name, e.getMessage());
        outcomes.accept(false);
        return false;
    }

    private static byte[] digest(CertificateFiles files) throws TlsConfigException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no SHA-256 in this JVM", e);
        }
        List<Optional<Path>> all = new ArrayList<>(List.of(files.ca(), files.cert(), files.key()));
        for (Optional<Path> f : all) {
            if (f.isEmpty()) {
                sha.update((byte) 0);
                continue;
            }
            try {
                sha.update(Files.readAllBytes(f.get()));
            } catch (IOException e) {
                throw new TlsConfigException("cannot read " + f.get() + ": " + e.getMessage(), e);
            }
            sha.update((byte) 1);
        }
        return sha.digest();
    }

    @Override
    public String toString() {
        return name + " TLS (" + files.cert().map(Path::toString).orElse("?") + ")";
    }
}
