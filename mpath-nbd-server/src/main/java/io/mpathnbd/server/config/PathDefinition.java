package io.mpathnbd.server.config;

import io.mpathnbd.core.backend.DriverOptions;
import io.mpathnbd.core.backend.AccessState;
import io.mpathnbd.core.path.PathConfig;

/**
 * One configured path of an export.
 *
 * @param id unique within the export (assigned p0, p1, ... by position when not configured)
 * @param uri as configured (may hold a secret: show it through {@code Drivers.redact})
 * @param distance numa distance, lower is nearer (0 = unset)
 */
public record PathDefinition(String id, String uri, int distance, AccessState accessState) {

    /** Checks a path id given by the operator (config, admin API); returns it, or throws {@link ConfigException}. */
    public static String checkId(String where, String id) {
        return ConfigReader.pathId(where, id);
    }

    public PathConfig toPathConfig(DriverOptions options) {
        return new PathConfig(id, uri, distance, accessState, options);
    }
}
