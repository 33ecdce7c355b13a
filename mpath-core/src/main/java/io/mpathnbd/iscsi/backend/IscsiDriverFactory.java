package io.mpathnbd.iscsi.backend;

import io.mpathnbd.core.backend.BackendContext;
import io.mpathnbd.core.backend.BackendDriver;
import io.mpathnbd.core.backend.DriverFactory;
import io.mpathnbd.core.backend.DriverOptions;
import java.net.URI;

/**
 * The {@code iscsi} transport: {@code iscsi://[user[:secret]@]host[:port]/TARGET-IQN/LUN}, settings from
 * {@link DriverOptions#transport()} ({@link IscsiOptions}). Registered through META-INF/services.
 */
public final class IscsiDriverFactory implements DriverFactory {
    @Override
    public String scheme() {
        return "iscsi";
    }

    @Override
    public BackendDriver create(URI uri, BackendContext context, DriverOptions options) {
        return new IscsiDriver(IscsiUri.parse(uri), context, options);
    }
}
