package io.mpathnbd.nbd.backend;

import io.mpathnbd.core.backend.BackendContext;
import io.mpathnbd.core.backend.BackendDriver;
import io.mpathnbd.core.backend.DriverFactory;
import io.mpathnbd.core.backend.DriverOptions;
import java.net.URI;

/**
 * The {@code nbds} transport: NBD with STARTTLS, {@code nbds://host[:port]/export-name}, TLS settings from
 * {@link NbdTlsOptions}. The TLS context is built here, so a missing certificate file fails the path's
 * configuration rather than every connect. Registered through META-INF/services.
 */
public final class NbdsDriverFactory implements DriverFactory {
    @Override
    public String scheme() {
        return "nbds";
    }

    @Override
    public BackendDriver create(URI uri, BackendContext context, DriverOptions options) {
        NbdTarget target = NbdTarget.parse(uri);
        return new NbdDriver(target, NbdTls.of(target, options.transport()), uri.toString(), context, options);
    }
}
