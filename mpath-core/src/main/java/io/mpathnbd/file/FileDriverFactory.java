package io.mpathnbd.file;

import io.mpathnbd.core.backend.BackendContext;
import io.mpathnbd.core.backend.BackendDriver;
import io.mpathnbd.core.backend.DriverFactory;
import io.mpathnbd.core.backend.DriverOptions;
import io.mpathnbd.core.zone.ZoneSpec;
import java.net.URI;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * The {@code file} scheme: a local file or block device. Accepted forms: {@code file:/abs/path},
 * {@code file:///abs/path}, {@code file://localhost/abs/path}, and {@code file:relative/path} (resolved against the
 * working directory). Query: {@code readonly=true|false}, and the {@link ZoneParameters} that make the file an
 * emulated zoned disk ({@code zone-size=256MiB&conventional=4&max-open=14}).
 */
public final class FileDriverFactory implements DriverFactory {

    @Override
    public String scheme() {
        return "file";
    }

    @Override
    public BackendDriver create(URI uri, BackendContext context, DriverOptions options) {
        String path;
        String query;
        if (uri.isOpaque()) {
            // file:relative/path[?query]: the URI class does not split the query of an opaque URI
            String ssp = uri.getSchemeSpecificPart();
            int q = ssp.indexOf('?');
            path = q < 0 ? ssp : ssp.substring(0, q);
            query = q < 0 ? null : ssp.substring(q + 1);
        } else {
            String host = uri.getHost();
            String authority = uri.getAuthority();
            if (authority != null && !authority.isEmpty() && !"localhost".equalsIgnoreCase(host)) {
                throw new IllegalArgumentException("file URI '" + uri + "' names host '" + authority
                        + "': only local files are supported (use file:/path or file:///path)");
            }
            path = uri.getPath();
            query = uri.getQuery();
        }
        if (path == null || path.isEmpty()) {
            throw new IllegalArgumentException("file URI '" + uri + "' has no path");
        }
        Map<String, String> params = parameters(uri, query);
        boolean readOnly = parseReadOnly(uri, params.get("readonly"));
        ZoneSpec zones = ZoneParameters.parse(uri.toString(), params);
        Path file;
        try {
            file = Paths.get(path).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("file URI '" + uri + "': invalid path: " + e.getReason());
        }
        return new FileDriver(uri.toString(), file, readOnly, zones,
                options == null ? DriverOptions.defaults() : options);
    }

    private static Map<String, String> parameters(URI uri, String query) {
        Map<String, String> params = new LinkedHashMap<>();
        if (query == null || query.isEmpty()) {
            return params;
        }
        for (String param : query.split("&")) {
            if (param.isEmpty()) {
                continue;
            }
            int eq = param.indexOf('=');
            String key = (eq < 0 ? param : param.substring(0, eq)).toLowerCase(Locale.ROOT);
            String value = eq < 0 ? "true" : param.substring(eq + 1);
            if (!key.equals("readonly") && !ZoneParameters.NAMES.contains(key)) {
                throw new IllegalArgumentException("file URI '" + uri + "': unknown parameter '" + key
                        + "' (supported: readonly, " + String.join(", ", new TreeSet<>(ZoneParameters.NAMES)) + ")");
            }
            if (params.put(key, value) != null) {
                throw new IllegalArgumentException("file URI '" + uri + "': parameter '" + key + "' given twice");
            }
        }
        return params;
    }

    private static boolean parseReadOnly(URI uri, String text) {
        if (text == null) {
            return false;
        }
        String value = text.toLowerCase(Locale.ROOT);
        if (value.equals("true") || value.equals("1") || value.equals("yes")) {
            return true;
        }
        if (value.equals("false") || value.equals("0") || value.equals("no")) {
            return false;
        }
        throw new IllegalArgumentException("file URI '" + uri + "': readonly must be true or false, not '"
                + text + "'");
    }
}
