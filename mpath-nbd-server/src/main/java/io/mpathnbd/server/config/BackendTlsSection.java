package io.mpathnbd.server.config;

import io.mpathnbd.core.backend.TransportOptions;
import io.mpathnbd.nbd.backend.NbdTlsOptions;
import java.util.List;
import java.util.Map;

/**
 * The {@code backend-tls:} section of {@code nbds://} paths: at the top level, per export and per path, each level
 * overriding the one above key by key. Read into {@link TransportOptions} under the {@code nbd.tls-} keys; whether
 * the files exist and load is checked when the paths' drivers are made, at start, naming the file.
 */
final class BackendTlsSection {
    static final String KEY = "backend-tls";
    private static final Map<String, String> OPTIONS = Map.of(
            "certificates", NbdTlsOptions.CERTIFICATES,
            "ca-file", NbdTlsOptions.CA_FILE,
            "cert-file", NbdTlsOptions.CERT_FILE,
            "key-file", NbdTlsOptions.KEY_FILE,
            "hostname", NbdTlsOptions.HOSTNAME);
    /** In documentation order. */
    static final List<String> KEYS = List.of("certificates", "ca-file", "cert-file", "key-file", "hostname");

    private BackendTlsSection() {
    }

    /** Reads {@code parent}'s {@code backend-tls:} section over {@code base}; {@code base} if there is none. */
    static TransportOptions read(Section parent, TransportOptions base) {
        if (!parent.has(KEY)) {
            return base;
        }
        Section s = Section.of(parent.raw(KEY), parent.where(KEY));
        s.allowOnly(KEYS);
        TransportOptions t = base;
        for (String key : KEYS) {
            String v = s.string(key, null);
            if (v == null) {
                continue;
            }
            if (v.isBlank()) {
                throw new ConfigException(s.where(key) + ": empty");
            }
            t = t.with(OPTIONS.get(key), v.trim());
        }
        return t;
    }
}
