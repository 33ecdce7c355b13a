package io.mpathnbd.server.config;

import io.mpathnbd.core.backend.AccessState;
import io.mpathnbd.core.backend.DriverOptions;
import io.mpathnbd.core.backend.TransportOptions;
import io.mpathnbd.core.path.PathConfig;

/**
 * One configured path of an export.
 *
 * @param id unique within the export (assigned p0, p1, ... by position when not configured)
 * @param uri as configured (may hold a secret: show it through {@code Drivers.redact})
 * @param distance numa distance, lower is nearer (0 = unset)
 * @param transport this path's own transport settings (its {@code backend-tls:}), over the export's; never null
 */
public record PathDefinition(String id, String uri, int distance, AccessState accessState,
        TransportOptions transport) {

    public PathDefinition {
        if (transport == null) {
            transport = TransportOptions.EMPTY;
        }
    }

    public PathDefinition(String id, String uri, int distance, AccessState accessState) {
        this(id, uri, distance, accessState, TransportOptions.EMPTY);
    }

    /** Checks a path id given by the operator (config, admin API); returns it, or throws {@link ConfigException}. */
    public static String checkId(String where, String id) {
        return ConfigReader.pathId(where, id);
    }

    /** The export's driver options with this path's transport settings over them. */
    public DriverOptions driverOptions(DriverOptions exportOptions) {
        return transport.isEmpty() ? exportOptions
                : exportOptions.withTransport(exportOptions.transport().with(transport));
    }

    /** @param exportOptions the export's driver options; this path's own settings are applied over them */
    public PathConfig toPathConfig(DriverOptions exportOptions) {
        return new PathConfig(id, uri, distance, accessState, driverOptions(exportOptions));
    }
}
