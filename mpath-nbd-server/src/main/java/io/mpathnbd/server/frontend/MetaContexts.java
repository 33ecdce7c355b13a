package io.mpathnbd.server.frontend;

import io.mpathnbd.nbd.protocol.NbdConstants;
import java.util.ArrayList;
import java.util.List;

/**
 * The metadata contexts this server offers. Every export offers {@code base:allocation}: where the paths report
 * allocation it is relayed, elsewhere every extent is reported as plain data (status 0, always safe). A zoned export
 * also offers two contexts of the experimental namespace {@code x-mpath} (the spec leaves {@code x-} namespaces to
 * experiments; NBD defines no zones): {@link #ZONE_TYPE_CONDITION} and {@link #WRITE_POINTER}, see docs/zones.md.
 */
final class MetaContexts {
    static final String BASE_ALLOCATION = NbdConstants.META_BASE_ALLOCATION;
    /** One extent per zone, value {@code (ZBC zone type << 4) | ZBC zone condition}. */
    static final String ZONE_TYPE_CONDITION = "x-mpath:zone-type-condition";
    /** Per zone, extents that end at its write pointer: {@link #WRITTEN} before, {@link #UNWRITTEN} from it. */
    static final String WRITE_POINTER = "x-mpath:write-pointer";
    static final int UNWRITTEN = 0;
    static final int WRITTEN = 1;
    /** A zone without a write pointer: conventional, read-only or offline. */
    static final int NO_WRITE_POINTER = 2;
    private static final String BASE_NAMESPACE = "base:";
    private static final String MPATH_NAMESPACE = "x-mpath:";

    private MetaContexts() {
    }

    /**
     * LIST_META_CONTEXT: no query lists everything; "base:" and "x-mpath:" are namespace wildcards; queries for other
     * namespaces or unknown leaves are ignored, as the spec requires.
     */
    static List<String> listed(List<String> queries, boolean zoned) {
        List<String> out = new ArrayList<>(3);
        for (String name : offered(zoned)) {
            if (queries.isEmpty() || queries.contains(name) || queries.contains(namespace(name))) {
                out.add(name);
            }
        }
        return out;
    }

    /** SET_META_CONTEXT: only exact names select; namespace wildcards must be ignored here. */
    static List<String> selected(List<String> queries, boolean zoned) {
        List<String> out = new ArrayList<>(3);
        for (String name : offered(zoned)) {
            if (queries.contains(name)) {
                out.add(name);
            }
        }
        return out;
    }

    private static List<String> offered(boolean zoned) {
        return zoned ? List.of(BASE_ALLOCATION, ZONE_TYPE_CONDITION, WRITE_POINTER) : List.of(BASE_ALLOCATION);
    }

    private static String namespace(String name) {
        return name.startsWith(MPATH_NAMESPACE) ? MPATH_NAMESPACE : BASE_NAMESPACE;
    }
}
