package io.mpathnbd.core.backend;

import io.mpathnbd.core.request.BlockRequest;
import java.util.concurrent.CompletableFuture;

/**
 * One established connection set to one backend target: what the kernel calls a path's controller. Created by
 * {@link BackendDriver#connect()}, used until it is lost or closed, never reconnected in place (the core's path
 * opens a new session instead, and checks its identity).
 */
public interface BackendSession {

    BackendInfo info();

    /**
     * Sends one request. Thread-safe, non-blocking. The callback is always called, also when the session is closed or
     * lost meanwhile (then with a PATH failure). The request's payload reference is not consumed (see
     * {@link BlockRequest}).
     */
    void submit(BlockRequest request, BackendCallback callback);

    /** A cheap health check (e.g. a small read or TEST UNIT READY) on an idle session; completes exceptionally on failure. */
    CompletableFuture<Void> probe();

    /**
     * Closes the session: outstanding requests fail with PATH failures, and the returned future completes only when
     * every connection of the session is fully closed, so the backend can no longer receive anything from it. The
     * write fence builds on that.
     */
    CompletableFuture<Void> close();

    /** Completes (normally) when the session ends for any reason: closed by {@link #close()} or lost. */
    CompletableFuture<Void> closeFuture();

    /** Why the session ended, if it was lost; null while open or after an orderly close. */
    String lossReason();

    /**
     * This session's persistent reservation commands, or null when its transport has none (NBD, file). The control
     * templates sit beside {@link #submit}: typed commands for features that are not block I/O.
     */
    default ReservationOps reservations() {
        return null;
    }

    /**
     * This session's zone commands when its disk is zoned (an iSCSI ZBC logical unit, an emulated zoned file), or
     * null when it is not (NBD has no zones). Its {@link ZoneOps#layout()} is fixed for the session's life.
     */
    default ZoneOps zones() {
        return null;
    }
}
