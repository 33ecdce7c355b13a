package io.mpathnbd.core.path;

import io.mpathnbd.core.backend.AccessState;
import io.mpathnbd.core.backend.DriverOptions;

/**
 * Settings of one path.
 *
 * @param id name unique within the export (null: assigned, p0, p1, ...)
 * @param uri the path URI as configured (may contain a secret: never log it, use the driver's display URI)
 * @param distance numa-policy distance (lower is nearer); 0 = unset
 * @param accessState configured access state (OPTIMIZED unless the operator says otherwise)
 * @param driverOptions transport tunables
 */
public record PathConfig(String id, String uri, int distance, AccessState accessState, DriverOptions driverOptions) {

    public static PathConfig of(String uri) {
        return new PathConfig(null, uri, 0, AccessState.OPTIMIZED, DriverOptions.defaults());
    }

    public PathConfig withId(String newId) {
        return new PathConfig(newId, uri, distance, accessState, driverOptions);
    }

    public PathConfig withDriverOptions(DriverOptions o) {
        return new PathConfig(id, uri, distance, accessState, o);
    }
}
