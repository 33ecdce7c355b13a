package io.mpathnbd.core.path;

import io.mpathnbd.core.backend.BackendSession;
import io.mpathnbd.core.backend.ControlResult;
import java.util.concurrent.CompletableFuture;

/**
 * What the export runs on a path's new session after it passed the {@link PathHost#admit} check and before it
 * carries I/O (later: registering the reservation key). Handed out by {@link PathHost#admission}, run by the path's
 * state machine without its lock; the path stays CONNECTING until the future completes.
 */
@FunctionalInterface
public interface Admission {

    /**
     * Completes normally: a success puts the path live; a path error fails it (reconnect with backoff); any other
     * failure refuses it (slow retry), its message shown as the path's last error.
     */
    CompletableFuture<ControlResult<Void>> run(BackendSession session);
}
