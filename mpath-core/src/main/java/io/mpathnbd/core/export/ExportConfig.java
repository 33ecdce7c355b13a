package io.mpathnbd.core.export;

import java.time.Duration;

/**
 * Immutable, validated settings of one export (the multipath disk). Run-time changes (iopolicy, paths) go through
 * {@link Export}'s methods, not through a new config.
 *
 * @param name export name clients ask for
 * @param description free text shown to clients (NBD INFO DESCRIPTION), may be null
 * @param ioPolicy initial iopolicy name (numa, round-robin, queue-depth, service-time)
 * @param noPathTimeout how long a request may wait while no path is usable but one may come back
 * @param queueIfNoPath wait forever instead (operator's explicit choice)
 * @param maxRetries attempts beyond the first a request may make before failing with EIO
 * @param fenceDelay extra wait, after a timed-out path's connection is closed, before its in-doubt writes are
 *     retried elsewhere
 * @param removalDelay how long the export keeps holding I/O after its last path is removed
 * @param failback IMMEDIATE: a reconnected path carries I/O at once; MANUAL: only after the operator reinstates it
 * @param reconnectMin first reconnect backoff
 * @param reconnectMax backoff ceiling
 * @param probeInterval idle health-probe interval per path
 * @param retryDelay delay before retrying on the same path (busy, transitioning)
 * @param expectedIdentity disk identity every path must report (null: first path's identity, or none)
 * @param trimResetsZones on a zoned export, a TRIM of exactly one whole sequential zone resets that zone (and TRIM
 *     is advertised); off by default, since a TRIM is a hint a client may send without meaning to drop data
 */
public record ExportConfig(
        String name,
        String description,
        String ioPolicy,
        Duration noPathTimeout,
        boolean queueIfNoPath,
        int maxRetries,
        Duration fenceDelay,
        Duration removalDelay,
        FailbackMode failback,
        Duration reconnectMin,
        Duration reconnectMax,
        Duration probeInterval,
        Duration retryDelay,
        String expectedIdentity,
        boolean trimResetsZones) {

    public ExportConfig(String name, String description, String ioPolicy, Duration noPathTimeout,
            boolean queueIfNoPath, int maxRetries, Duration fenceDelay, Duration removalDelay, FailbackMode failback,
            Duration reconnectMin, Duration reconnectMax, Duration probeInterval, Duration retryDelay,
            String expectedIdentity) {
        this(name, description, ioPolicy, noPathTimeout, queueIfNoPath, maxRetries, fenceDelay, removalDelay, failback,
                reconnectMin, reconnectMax, probeInterval, retryDelay, expectedIdentity, false);
    }

    public ExportConfig withTrimResetsZones(boolean resets) {
        return new ExportConfig(name, description, ioPolicy, noPathTimeout, queueIfNoPath, maxRetries, fenceDelay,
                removalDelay, failback, reconnectMin, reconnectMax, probeInterval, retryDelay, expectedIdentity,
                resets);
    }

    public static ExportConfig defaults(String name) {
        return new ExportConfig(name, null, "numa", Duration.ofSeconds(30), false, 8, Duration.ofMillis(50),
                Duration.ofSeconds(30), FailbackMode.IMMEDIATE, Duration.ofMillis(100), Duration.ofSeconds(10),
                Duration.ofSeconds(5), Duration.ofMillis(50), null);
    }

    public ExportConfig withIoPolicy(String policy) {
        return new ExportConfig(name, description, policy, noPathTimeout, queueIfNoPath, maxRetries, fenceDelay,
                removalDelay, failback, reconnectMin, reconnectMax, probeInterval, retryDelay, expectedIdentity,
                trimResetsZones);
    }

    public ExportConfig withNoPathTimeout(Duration d) {
        return new ExportConfig(name, description, ioPolicy, d, queueIfNoPath, maxRetries, fenceDelay,
                removalDelay, failback, reconnectMin, reconnectMax, probeInterval, retryDelay, expectedIdentity,
                trimResetsZones);
    }

    public ExportConfig withFenceDelay(Duration d) {
        return new ExportConfig(name, description, ioPolicy, noPathTimeout, queueIfNoPath, maxRetries, d,
                removalDelay, failback, reconnectMin, reconnectMax, probeInterval, retryDelay, expectedIdentity,
                trimResetsZones);
    }

    public ExportConfig withFailback(FailbackMode mode) {
        return new ExportConfig(name, description, ioPolicy, noPathTimeout, queueIfNoPath, maxRetries, fenceDelay,
                removalDelay, mode, reconnectMin, reconnectMax, probeInterval, retryDelay, expectedIdentity,
                trimResetsZones);
    }

    public ExportConfig withReconnect(Duration min, Duration max) {
        return new ExportConfig(name, description, ioPolicy, noPathTimeout, queueIfNoPath, maxRetries, fenceDelay,
                removalDelay, failback, min, max, probeInterval, retryDelay, expectedIdentity, trimResetsZones);
    }
    public ExportConfig withDescription(String text) {
        return new ExportConfig(name, text, ioPolicy, noPathTimeout, queueIfNoPath, maxRetries, fenceDelay,
                removalDelay, failback, reconnectMin, reconnectMax, probeInterval, retryDelay, expectedIdentity,
                trimResetsZones);
    }

    public ExportConfig withQueueIfNoPath(boolean queue) {
        return new ExportConfig(name, description, ioPolicy, noPathTimeout, queue, maxRetries, fenceDelay,
                removalDelay, failback, reconnectMin, reconnectMax, probeInterval, retryDelay, expectedIdentity,
                trimResetsZones);
    }

    public ExportConfig withMaxRetries(int retries) {
        return new ExportConfig(name, description, ioPolicy, noPathTimeout, queueIfNoPath, retries, fenceDelay,
                removalDelay, failback, reconnectMin, reconnectMax, probeInterval, retryDelay, expectedIdentity,
                trimResetsZones);
    }

    public ExportConfig withRemovalDelay(Duration d) {
        return new ExportConfig(name, description, ioPolicy, noPathTimeout, queueIfNoPath, maxRetries, fenceDelay,
                d, failback, reconnectMin, reconnectMax, probeInterval, retryDelay, expectedIdentity, trimResetsZones);
    }

    public ExportConfig withProbeInterval(Duration d) {
        return new ExportConfig(name, description, ioPolicy, noPathTimeout, queueIfNoPath, maxRetries, fenceDelay,
                removalDelay, failback, reconnectMin, reconnectMax, d, retryDelay, expectedIdentity, trimResetsZones);
    }

    public ExportConfig withRetryDelay(Duration d) {
        return new ExportConfig(name, description, ioPolicy, noPathTimeout, queueIfNoPath, maxRetries, fenceDelay,
                removalDelay, failback, reconnectMin, reconnectMax, probeInterval, d, expectedIdentity,
                trimResetsZones);
    }

    public ExportConfig withExpectedIdentity(String id) {
        return new ExportConfig(name, description, ioPolicy, noPathTimeout, queueIfNoPath, maxRetries, fenceDelay,
                removalDelay, failback, reconnectMin, reconnectMax, probeInterval, retryDelay, id, trimResetsZones);
    }
}
