package io.mpathnbd.server.config;

import io.mpathnbd.core.backend.DriverFactory;
import io.mpathnbd.core.backend.Drivers;
import java.net.URI;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;

/** Syntax check of path URIs before any driver exists: parseable, and a scheme some registered transport handles. */
public final class PathUris {
    private static volatile Set<String> schemes;
    private static final Map<String, Integer> DEFAULT_PORTS = Map.of("nbd", 10809, "nbds", 10809,
            "iscsi", 3260);

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

    /**
     * What makes two path URIs reach the same backend: scheme and host without case, the transport's default port
     * filled in, a normalised file path; user information (credentials) does not count. For a valid URI only.
     */
    public static String backendKey(String uri) {
        URI u = Drivers.parse(uri);
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        if (scheme.equals("file")) {
            String p = u.getPath() != null ? u.getPath() : u.getSchemeSpecificPart();
            return "file:" + java.nio.file.Path.of(p).toAbsolutePath().normalize();
        }
        String host = u.getHost() == null ? String.valueOf(u.getAuthority()) : u.getHost().toLowerCase(Locale.ROOT);
        int port = u.getPort() >= 0 ? u.getPort() : DEFAULT_PORTS.getOrDefault(scheme, -1);
        String path = u.getPath() == null ? "" : u.getPath().replaceAll("/+$", "");
        return scheme + "://" + host + ":" + port + path + (u.getQuery() == null ? "" : "?" + u.getQuery());
    }

    /**
     * Throws {@link ConfigException} if {@code uri} reaches the same backend as one of {@code others} (uri -> where
     * it is configured): two paths to one backend look redundant and are not.
     */
    public static void checkDistinct(String where, String uri, Map<String, String> others) {
        String key = backendKey(uri);
        for (var e : others.entrySet()) {
            if (backendKey(e.getKey()).equals(key)) {
                throw new ConfigException(where + ": '" + Drivers.redact(uri.trim()) + "' is the same backend as "
                        + e.getValue() + " ('" + Drivers.redact(e.getKey().trim()) + "'): two paths to one backend"
                        + " give no redundancy");
            }
        }
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
