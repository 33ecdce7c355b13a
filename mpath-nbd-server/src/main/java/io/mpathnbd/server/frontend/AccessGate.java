package io.mpathnbd.server.frontend;

import io.mpathnbd.core.export.Export;
import io.mpathnbd.server.access.ClientIdentity;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The export catalog as one client may see it: an export its access list does not let it attach does not exist for
 * it, so that it cannot tell a refusal from a missing name. Refusals are logged (rate-limited) and counted per
 * export. Shared by all connections of a front end; any thread.
 */
final class AccessGate {
    private static final Logger LOG = LoggerFactory.getLogger(AccessGate.class);

    private final ExportCatalog catalog;
    private final FrontendObserver observer;
    private final RefusalLog refusals;

    AccessGate(ExportCatalog catalog, FrontendObserver observer) {
        this(catalog, observer, new RefusalLog(LOG, RefusalLog.INTERVAL_NANOS));
    }

    AccessGate(ExportCatalog catalog, FrontendObserver observer, RefusalLog refusals) {
        this.catalog = catalog;
        this.observer = observer;
        this.refusals = refusals;
    }

    /**
     * The export {@code name} names if {@code client} may attach to it, else null, as for a name that does not
     * exist; {@code option} and {@code remote} are for the refusal's log line.
     */
    Export find(String name, ClientIdentity client, String option, String remote) {
        Export export = catalog.find(name);
        if (export == null || catalog.access(export).allows(client)) {
            return export;
        }
        refusals.refused(remote + ": " + option + " for export '" + export.name() + "': no allow entry matches "
                + client.describe() + " (answered as for an unknown export)");
        observer.accessRefused(export.name());
        return null;
    }

    /** The exports {@code client} may attach, in configuration order (for NBD_OPT_LIST). */
    List<Export> listed(ClientIdentity client) {
        List<Export> out = new ArrayList<>();
        for (Export e : catalog.all()) {
            if (catalog.access(e).allows(client)) {
                out.add(e);
            }
        }
        return out;
    }

    /** Whether only clients that negotiated TLS may attach {@code export}. */
    boolean tlsRequired(Export export) {
        return catalog.access(export).tlsRequired();
    }

    /** Whether only TLS clients with a verified certificate may attach {@code export}. */
    boolean certificateRequired(Export export) {
        return catalog.access(export).certificateRequired();
    }

    /** Whether {@code client} gets {@code export} read-only (because of the export or of its allow entry). */
    boolean readOnly(Export export, ClientIdentity client) {
        return catalog.access(export).readOnlyFor(client);
    }
}
