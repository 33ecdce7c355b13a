package io.mpathnbd.server.config;

import io.mpathnbd.core.tls.CertificateFiles;
import io.mpathnbd.core.tls.PskFile;
import io.mpathnbd.core.tls.TlsConfigException;
import io.mpathnbd.server.frontend.FrontendTls.Mode;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * TLS on the NBD port ({@code tls:}): the mode of the NBD spec (off, SELECTIVETLS as {@code optional}, FORCEDTLS as
 * {@code required}), the certificate files (a directory in nbdkit's and qemu's layout, or single files), whether the
 * TLS handshake asks clients for a certificate, and how often the files are checked for a new version.
 *
 * @param mode           what STARTTLS and the exports demand
 * @param files          the server certificate and key, and the CA that verifies client certificates; null with
 *                       {@code psk}
 * @param psk            TLS-PSK keys ({@code psk-file}, psktool's format) instead of certificates, or null
 * @param clientAuth     NONE: no client certificate asked for; OPTIONAL: asked, verified when sent; REQUIRE: no
 *                       TLS without one
 * @param reloadInterval how often the files are compared with the ones loaded; zero: only on SIGHUP
 * @param provider       the X.509 TLS implementation: BoringSSL (netty-tcnative) where it loads, else the JDK's
 * @param where          the config key the files came from, for messages
 */
public record TlsSettings(Mode mode, CertificateFiles files, PskFile psk, ClientAuth clientAuth,
        Duration reloadInterval, SslProvider provider, String where) {
    static final String KEY = "tls";
    static final List<String> KEYS = List.of("mode", "certificates", "cert-file", "key-file", "ca-file", "psk-file",
            "client-certificates", "reload-interval", "provider");
    private static final List<String> PROVIDERS = List.of("auto", "openssl", "jdk");
    public static final Duration DEFAULT_RELOAD = Duration.ofSeconds(10);
    private static final List<String> CLIENT_AUTH = List.of("none", "optional", "required");

    public static final TlsSettings OFF = new TlsSettings(Mode.OFF, null, null, ClientAuth.NONE, Duration.ZERO,
            SslProvider.JDK, KEY);

    public boolean enabled() {
        return mode != Mode.OFF;
    }

    /** The top-level {@code tls:} section, or {@link #OFF} without one. */
    static TlsSettings read(Section parent) {
        if (!parent.has(KEY)) {
            return OFF;
        }
        Section s = Section.of(parent.raw(KEY), KEY);
        s.allowOnly(KEYS);
        Mode mode = Mode.valueOf(s.choice("mode", "required", Mode.LABELS).toUpperCase(Locale.ROOT));
        String dir = s.string("certificates", null);
        String cert = s.string("cert-file", null);
        String key = s.string("key-file", null);
        String ca = s.string("ca-file", null);
        if (mode == Mode.OFF) {
            return OFF;
        }
        String pskFile = s.string("psk-file", null);
        if (pskFile != null) {
            return psk(s, mode, pskFile, dir != null || cert != null || key != null || ca != null);
        }
        CertificateFiles files;
        String where;
        if (dir != null) {
            if (cert != null || key != null || ca != null) {
                throw new ConfigException(KEY + ": give either certificates (a directory with server-cert.pem,"
                        + " server-key.pem and ca-cert.pem) or cert-file, key-file and ca-file, not both");
            }
            files = CertificateFiles.serverDirectory(Path.of(dir));
            where = s.where("certificates");
        } else {
            if (cert == null || key == null) {
                throw new ConfigException(KEY + ": with mode " + mode.label() + " it needs certificates: DIR (with"
                        + " server-cert.pem and server-key.pem), or cert-file and key-file");
            }
            files = new CertificateFiles(Optional.ofNullable(ca).map(Path::of), Optional.of(Path.of(cert)),
                    Optional.of(Path.of(key)));
            where = s.where("cert-file");
        }
        String auth = s.choice("client-certificates", files.ca().isPresent() ? "optional" : "none", CLIENT_AUTH);
        ClientAuth clientAuth = switch (auth) {
            case "required" -> ClientAuth.REQUIRE;
            case "optional" -> ClientAuth.OPTIONAL;
            default -> ClientAuth.NONE;
        };
        if (clientAuth != ClientAuth.NONE && files.ca().isEmpty()) {
            throw new ConfigException(s.where("client-certificates") + ": '" + auth + "' needs a CA to verify"
                    + " client certificates with (ca-cert.pem in the certificates directory, or ca-file)");
        }
        Duration reload = s.duration("reload-interval", DEFAULT_RELOAD, Duration.ZERO);
        return new TlsSettings(mode, files, null, clientAuth, reload, provider(s), where);
    }

    /** {@code psk-file}: TLS-PSK, read now (the keys are not reloaded; a new file takes a restart). */
    private static TlsSettings psk(Section s, Mode mode, String file, boolean certificatesToo) {
        if (certificatesToo) {
            throw new ConfigException(KEY + ": give either psk-file (TLS-PSK) or certificates / cert-file, key-file,"
                    + " ca-file (X.509), not both: the TLS engine is chosen before a client says which it speaks");
        }
        if (s.has("client-certificates")) {
            throw new ConfigException(s.where("client-certificates") + ": TLS-PSK has no client certificates (the"
                    + " key authenticates the client)");
        }
        try {
            // reload-interval still paces the admin API's certificate checks
            return new TlsSettings(mode, null, PskFile.read(Path.of(file)), ClientAuth.NONE,
                    s.duration("reload-interval", DEFAULT_RELOAD, Duration.ZERO), SslProvider.JDK, s.where("psk-file"));
        } catch (TlsConfigException e) {
            throw new ConfigException(s.where("psk-file") + ": " + e.getMessage(), e);
        }
    }

    /**
     * {@code provider}: {@code auto} (the default) takes BoringSSL when it loads, as it measured faster than the JDK's
     * TLS here (BENCHMARKS.md); asking for {@code openssl} where it cannot load is an error naming the cause.
     */
    private static SslProvider provider(Section s) {
        String p = s.choice("provider", "auto", PROVIDERS);
        if (p.equals("jdk")) {
            return SslProvider.JDK;
        }
        if (OpenSsl.isAvailable()) {
            return SslProvider.OPENSSL;
        }
        if (p.equals("openssl")) {
            Throwable cause = OpenSsl.unavailabilityCause();
            throw new ConfigException(s.where("provider") + ": openssl (BoringSSL through netty-tcnative) does not"
                    + " load here: " + (cause == null ? "unknown reason" : cause.getMessage()));
        }
        return SslProvider.JDK;
    }

    /** Fails for per-export TLS demands these settings cannot meet. */
    void checkExport(String export, boolean tlsRequired, boolean certificateRequired) {
        if ((tlsRequired || certificateRequired) && mode == Mode.OFF) {
            throw new ConfigException("export '" + export + "': " + (certificateRequired ? "client-certificate: required"
                    : "tls-only: true") + ", but the gateway has no TLS (add a tls: section)");
        }
        if (certificateRequired && psk != null) {
            throw new ConfigException("export '" + export + "': client-certificate: required, but tls uses a"
                    + " psk-file: TLS-PSK clients have no certificate");
        }
        if (certificateRequired && clientAuth == ClientAuth.NONE) {
            throw new ConfigException("export '" + export + "': client-certificate: required, but tls:"
                    + " client-certificates is none, so no client would ever present one");
        }
    }

    /** For the startup line: "off", "required (X.509, openssl)", "optional (TLS-PSK)". */
    public String describe() {
        if (mode == Mode.OFF) {
            return "off";
        }
        return mode.label() + (psk != null ? " (TLS-PSK)" : " (X.509, " + provider.name().toLowerCase(Locale.ROOT) + ")");
    }

    @Override
    public String toString() {
        if (psk != null) {
            return "tls(" + mode.label() + ", " + psk + ")";
        }
        return mode == Mode.OFF ? "tls(off)" : "tls(" + mode.label() + ", " + files.cert().orElseThrow()
                + ", client certificates " + clientAuth.name().toLowerCase(Locale.ROOT) + ")";
    }
}
