package io.mpathnbd.core.backend;

import java.util.concurrent.CompletableFuture;

/**
 * The per-path transport template (the kernel's "head template"): knows how to reach one backend target and opens
 * sessions to it. One driver per path; it holds the path's URI and transport settings but no connection.
 *
 * <p>Transports and features extend this through optional interfaces of the session, so the core does not change
 * shape: {@link AccessStateSource} and {@link EventLoopAffinity} a session implements, and control templates it
 * hands out beside its I/O ({@link BackendSession#reservations()}, {@link BackendSession#zones()}).
 */
public interface BackendDriver {

    /** The path's URI as configured, with any secret removed; used in logs, the admin API and metrics. */
    String displayUri();

    /**
     * Opens a new session. Completes exceptionally with {@link BackendException} when the target cannot be reached
     * or refuses us; {@link BackendException#isConfigurationError()} tells the core not to retry quickly.
     */
    CompletableFuture<BackendSession> connect();

    /**
     * Whether the disk is zoned, when the driver knows before any connection (a {@code file:} path with zone
     * emulation says so in its URI; NBD cannot carry zones); null when only a session can tell (iSCSI). Lets a
     * configuration that mixes zoned and plain paths in one export be refused at start; sessions are checked anyway.
     */
    default Boolean zoned() {
        return null;
    }

    /**
     * Whether this transport's sessions offer persistent reservations ({@link BackendSession#reservations()}); known
     * before any session exists, so an export that needs them on every path can refuse a path that has none at once.
     */
    default boolean offersReservations() {
        return false;
    }

    /** Releases driver-wide resources (none for most drivers). */
    default void shutdown() {
    }
}
