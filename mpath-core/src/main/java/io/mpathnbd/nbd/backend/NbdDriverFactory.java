package io.mpathnbd.nbd.backend;

import io.mpathnbd.core.backend.BackendContext;
import io.mpathnbd.core.backend.BackendDriver;
import io.mpathnbd.core.backend.DriverFactory;
import io.mpathnbd.core.backend.DriverOptions;
import java.net.URI;

/**
 * The {@code nbd} transport: {@code nbd://host[:port]/export-name} (default port 10809, export name percent-decoded,
 * empty allowed). Registered through META-INF/services.
 */
public final class NbdDriverFactory implements DriverFactory {
    @Override
    public String scheme() {
        return "nbd";
    }

    @Override
    public BackendDriver create(URI uri, BackendContext context, DriverOptions options) {
        NbdTarget target = NbdTarget.parse(uri);
        if (target.tls()) {
            throw new IllegalArgumentException("not an nbd:// URI: " + uri);
        }
        return new NbdDriver(target, null, uri.toString(), context, options);
    }
}
