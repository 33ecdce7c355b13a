package io.mpathnbd.core.export;

import io.mpathnbd.core.backend.BackendSession;
import io.mpathnbd.core.backend.ControlResult;
import io.mpathnbd.core.path.Path;
import java.util.concurrent.CompletableFuture;

/**
 * A control command (or a short sequence of them, such as REGISTER retried with IGNORE EXISTING KEY) on one path's
 * session, e.g. through {@link BackendSession#reservations()}. {@link ControlSpread} decides which paths it reaches.
 *
 * @param <T> the result's value type; {@link Void} for commands that only succeed or fail
 */
@FunctionalInterface
public interface ControlStep<T> {

    /**
     * Starts the command on {@code session}, a session of {@code path}. The future completes normally with a result
     * classified as I/O is (see {@link ControlResult}); throwing or completing exceptionally counts as a bug, reported
     * as a target error so no path is failed for it.
     */
    CompletableFuture<ControlResult<T>> run(Path path, BackendSession session);
}
