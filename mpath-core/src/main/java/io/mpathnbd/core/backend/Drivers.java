package io.mpathnbd.core.backend;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * Turns a path URI into a driver, choosing the transport by scheme. Transports register through
 * {@code META-INF/services/io.mpathnbd.core.backend.DriverFactory}.
 */
public final class Drivers {
    private final Map<String, DriverFactory> factories = new TreeMap<>();
    private final BackendContext context;

    public Drivers(BackendContext context) {
        this.context = context;
        for (DriverFactory f : ServiceLoader.load(DriverFactory.class, Drivers.class.getClassLoader())) {
            factories.put(f.scheme().toLowerCase(Locale.ROOT), f);
        }
    }

    /** Parses {@code uri} and creates its driver; {@link IllegalArgumentException} names what is wrong. */
    public BackendDriver create(String uri, DriverOptions options) {
        URI parsed = parse(uri);
        String scheme = parsed.getScheme() == null ? "" : parsed.getScheme().toLowerCase(Locale.ROOT);
        DriverFactory f = factories.get(scheme);
        if (f == null) {
            throw new IllegalArgumentException("unsupported path scheme '" + scheme + "' in '" + redact(uri)
                    + "' (supported: " + String.join(", ", factories.keySet()) + ")");
        }
        return f.create(parsed, context, options);
    }

    public BackendContext context() {
        return context;
    }

    public static URI parse(String uri) {
        if (uri == null || uri.isBlank()) {
            throw new IllegalArgumentException("empty path URI");
        }
        try {
            return new URI(uri.trim());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("malformed path URI '" + redact(uri) + "': " + e.getReason());
        }
    }

    /** Hides a user-info secret (user:secret@) for messages. */
    public static String redact(String uri) {
        if (uri == null) {
            return null;
        }
        return uri.replaceAll("://([^:/@]*):[^@/]*@", "://$1:***@");
    }
}
