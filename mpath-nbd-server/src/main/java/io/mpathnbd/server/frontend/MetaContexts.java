package io.mpathnbd.server.frontend;

import io.mpathnbd.nbd.protocol.NbdConstants;
import java.util.List;

/**
 * The metadata contexts this server offers: only {@code base:allocation}. Every export offers it: where the paths
 * report allocation it is relayed, elsewhere every extent is reported as plain data (status 0, always safe).
 */
final class MetaContexts {
    static final String BASE_ALLOCATION = NbdConstants.META_BASE_ALLOCATION;
    private static final String BASE_NAMESPACE = "base:";

    private MetaContexts() {
    }

    /**
     * LIST_META_CONTEXT: no query lists everything; "base:" is the namespace wildcard; queries for other namespaces or
     * unknown base leaves are ignored, as the spec requires.
     */
    static boolean listed(List<String> queries) {
        if (queries.isEmpty()) {
            return true;
        }
        for (String q : queries) {
            if (q.equals(BASE_NAMESPACE) || q.equals(BASE_ALLOCATION)) {
                return true;
            }
        }
        return false;
    }

    /** SET_META_CONTEXT: only the exact name selects; the "base:" wildcard must be ignored here. */
    static boolean selected(List<String> queries) {
        for (String q : queries) {
            if (q.equals(BASE_ALLOCATION)) {
                return true;
            }
        }
        return false;
    }
}
