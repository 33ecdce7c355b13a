package io.mpathnbd.core.path;

import io.mpathnbd.core.backend.BackendInfo;
import io.mpathnbd.core.zone.ZoneLayout;

/**
 * What a {@link Path} needs from the export that owns it. Implemented privately by the export; public only because
 * the two live in different packages.
 */
public interface PathHost {

    /**
     * Checks a freshly opened session against the export: same disk (size, identity) and, once the export has
     * advertised its capabilities, at least those. Called with the path's lock held; must not call back into the path.
     *
     * @return null to accept, else why the path is refused (logged at ERROR, with both values)
     */
    String admit(Path path, BackendInfo info);

    /**
     * {@link #admit(Path, BackendInfo)} for a session that also reports its zone layout ({@code zones} null when the
     * disk is not zoned): a zoned export's paths must all be zoned, with one layout.
     */
    default String admit(Path path, BackendInfo info, ZoneLayout zones) {
        return zones == null ? admit(path, info) : "the disk is zoned (" + zones + "), which this export does not take";
    }

    /**
     * What to run on a session {@link #admit} accepted before it carries I/O, or null when there is nothing (then the
     * path goes live at once, in the same step). Called with the path's lock held: it only says what to run.
     */
    default Admission admission(Path path) {
        return null;
    }

    /** Delivered in order, never with a lock held. */
    void pathEvent(PathEvent event);
}
