package io.mpathnbd.core.policy;

import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.request.BlockRequest;

/**
 * Chooses the path for a request among the export's paths. Implementations keep no lock on the hot path; they read
 * the paths' live counters and access states.
 */
public interface IoPolicy {
    /** The policy's name as used in config and the admin API. */
    String name();

    /**
     * Picks a usable path (LIVE, access state that carries I/O, not excluded) or returns null if none.
     *
     * @param paths a snapshot of the export's paths (do not modify)
     * @param exclude a path to avoid (the one that just failed this request), or null
     */
    Path select(BlockRequest request, Path[] paths, Path exclude);
}
