package io.mpathnbd.file;

import io.mpathnbd.core.backend.BackendContext;
import io.mpathnbd.core.backend.BackendDriver;
import io.mpathnbd.core.backend.DriverFactory;
import io.mpathnbd.core.backend.DriverOptions;
import java.net.URI;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;

/**
 * The {@code file} scheme: a local file or block device. Accepted forms: {@code file:/abs/path},
 * {@code file:///abs/path}, {@code file://localhost/abs/path}, and {@code file:relative/path} (resolved against the
 * working directory). Query: {@code readonly=true|false}.
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
        boolean readOnly = parseReadOnly(uri, query);
        Path file;
        try {
            file = Paths.get(path).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("file URI '" + uri + "': invalid path: " + e.getReason());
        }
        return new FileDriver(uri.toString(), file, readOnly, options == null ? DriverOptions.defaults() : options);
    }

    private static boolean parseReadOnly(URI uri, String query) {
        boolean readOnly = false;
        if (query == null || query.isEmpty()) {
            return false;
        }
        for (String param : query.split("&")) {
            if (param.isEmpty()) {
                continue;
            }
            int eq = param.indexOf('=');
            String key = (eq < 0 ? param : param.substring(0, eq)).toLowerCase(Locale.ROOT);
            String value = eq < 0 ? "true" : param.substring(eq + 1).toLowerCase(Locale.ROOT);
            if (!key.equals("readonly")) {
                throw new IllegalArgumentException("file URI '" + uri + "': unknown parameter '" + key
                        + "' (supported: readonly)");
            }
            if (value.equals("true") || value.equals("1") || value.equals("yes")) {
                readOnly = true;
            } else if (value.equals("false") || value.equals("0") || value.equals("no")) {
                readOnly = false;
            } else {
                throw new IllegalArgumentException("file URI '" + uri + "': readonly must be true or false, not '"
                        + value + "'");
            }
        }
        return readOnly;
    }
}
