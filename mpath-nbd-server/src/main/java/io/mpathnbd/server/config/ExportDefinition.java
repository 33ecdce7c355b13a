package io.mpathnbd.server.config;

import io.mpathnbd.core.backend.DriverOptions;
import io.mpathnbd.core.export.ExportConfig;
import io.mpathnbd.server.access.ExportAccess;
import java.util.List;

/**
 * One configured export (multipath disk).
 *
 * @param description shown to clients, may be null
 * @param identity expected disk identity of every path, may be null
 * @param settings the defaults merged with this export's overrides
 */
public record ExportDefinition(
        String name,
        String description,
        String identity,
        ExportSettings settings,
        List<PathDefinition> paths) {

    public ExportDefinition {
        paths = List.copyOf(paths);
    }

    public ExportConfig toExportConfig() {
        return settings.exportConfig(name, description, identity);
    }

    /** Who may attach to this export and who may write to it. */
    public ExportAccess access() {
        return settings.access();
    }

    /** The persistent reservation key registered on every path (none unless configured). */
    public ReservationKeySetting reservationKey() {
        return settings.reservationKey();
    }

    /** Transport options of this export's paths (also for paths added at run time). */
    public DriverOptions driverOptions(int maxPayload) {
        return settings.driverOptions(maxPayload, identity);
    }
}
