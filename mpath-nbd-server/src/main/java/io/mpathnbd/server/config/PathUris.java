package io.mpathnbd.server.config;

import io.mpathnbd.core.backend.DriverFactory;
import io.mpathnbd.core.backend.Drivers;
import java.net.URI;
import java.util.Locale;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;

/** Syntax check of path URIs before any driver exists: parseable, and a scheme some registered transport handles. */
public final class PathUris {
    private static volatile Set<String> schemes;

    private PathUris() {
    }

    /** Schemes of the transports on the class path (file, nbd, ...), sorted. */
    public static Set<String> supportedSchemes() {
        Set<String> s = schemes;
        if (s == null) {
            Set<String> found = new TreeSet<>();
            for (DriverFactory f : ServiceLoader.load(DriverFactory.class, Drivers.class.getClassLoader())) {
                found.add(f.scheme().toLowerCase(Locale.ROOT));
            }
            s = Set.copyOf(found);
            schemes = s;
        }
        return new TreeSet<>(s);
    }

    /** Throws {@link ConfigException} prefixed with {@code where} if the URI cannot be a path. */
    public static void check(String where, String uri) {
        URI parsed;
        try {
            parsed = Drivers.parse(uri);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(where + ": " + e.getMessage());
        }
        if (parsed.getScheme() == null) {
            throw new ConfigException(where + ": '" + Drivers.redact(uri) + "' has no scheme (e.g. nbd://HOST:PORT/EXPORT"
                    + " or file:/PATH)");
        }
        String scheme = parsed.getScheme().toLowerCase(Locale.ROOT);
        Set<String> supported = supportedSchemes();
        if (!supported.contains(scheme)) {
            throw new ConfigException(where + ": unsupported scheme '" + scheme + "' (supported: "
                    + String.join(", ", supported) + ")");
        }
    }
}
