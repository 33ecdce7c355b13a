package io.mpathnbd.server.frontend;

import io.mpathnbd.core.export.Export;
import io.mpathnbd.server.access.ExportAccess;
import java.util.Collection;

/** The exports the front end may serve, looked up by name at handshake time (exports can change at run time). */
public interface ExportCatalog {
    /** The export with this name, or null. The empty name means the default export (the first configured). */
    Export find(String name);

    /** All exports, in configuration order (for NBD_OPT_LIST). */
    Collection<Export> all();

    /** Who may attach to {@code export} (one that {@link #find} or {@link #all} gave); open unless configured. */
    default ExportAccess access(Export export) {
        return ExportAccess.OPEN;
    }
}
