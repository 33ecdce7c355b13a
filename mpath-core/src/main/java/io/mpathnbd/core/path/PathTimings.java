package io.mpathnbd.core.path;

import java.time.Duration;

/**
 * The export-wide timings a path's state machine follows, handed down by the export so the path needs no view of the
 * export's whole configuration.
 *
 * @param reconnectMin first reconnect backoff
 * @param reconnectMax backoff ceiling
 * @param probeInterval idle health-probe interval
 * @param manualFailback a path that comes back after a failure waits for the operator's reinstate
 */
public record PathTimings(Duration reconnectMin, Duration reconnectMax, Duration probeInterval,
        boolean manualFailback) {
}
