package io.mpathnbd.core.observe;

import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.path.PathState;
import io.mpathnbd.core.request.BlockOp;

/**
 * Hooks through which the process (metrics, logs) watches the core without the core knowing about them. All methods
 * default to doing nothing; {@link #requestCompleted} is on the hot path and must not block or allocate.
 *
 * <p>The export calls these hooks, so they name it only by its name: this package sits below the export.
 */
public interface ExportObserver {
    ExportObserver NONE = new ExportObserver() {
    };

    /** One attempt on a path finished (success or failure). */
    default void requestCompleted(Path path, BlockOp op, int bytes, long nanos, boolean failed) {
    }

    /** A request left a failed path for another one. Called once per failover event, not per request. */
    default void failover(String export, Path from, String reason) {
    }

    /** The disk refused a request with RESERVATION CONFLICT (fenced by a reservation): not a path error. */
    default void reservationConflict(String export, Path path) {
    }

    /** A request was put back through the iopolicy after a path error. */
    default void requeued(String export, Path from) {
    }

    /** A request was parked because no path could take it. */
    default void held(String export) {
    }

    default void pathStateChanged(String export, Path path, PathState from, PathState to, String reason) {
    }

    default void pathAdded(String export, Path path) {
    }

    default void pathRemoved(String export, Path path) {
    }
}
