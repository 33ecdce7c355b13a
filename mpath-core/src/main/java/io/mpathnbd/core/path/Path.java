package io.mpathnbd.core.path;

import io.mpathnbd.core.backend.BackendInfo;
import io.mpathnbd.core.export.Export;

/**
 * One path of an export: a backend driver, its current session, state machine, access state and counters.
 * SKELETON: the public surface below is the contract; the core implementation fills it in.
 */
public final class Path {

    /** Unique within the export (p0, p1, ... unless configured). */
    public String id() {
        throw new UnsupportedOperationException("core in progress");
    }

    /** The driver's display URI (secrets removed). */
    public String uri() {
        throw new UnsupportedOperationException("core in progress");
    }

    public Export export() {
        throw new UnsupportedOperationException("core in progress");
    }

    public PathState state() {
        throw new UnsupportedOperationException("core in progress");
    }

    public AccessState accessState() {
        throw new UnsupportedOperationException("core in progress");
    }

    /** Configured numa distance (lower is nearer). */
    public int distance() {
        throw new UnsupportedOperationException("core in progress");
    }

    /** Requests currently sent on this path and not yet answered. */
    public int inFlight() {
        throw new UnsupportedOperationException("core in progress");
    }

    /** Payload bytes of those requests (service-time). */
    public long inFlightBytes() {
        throw new UnsupportedOperationException("core in progress");
    }

    public long requests() {
        throw new UnsupportedOperationException("core in progress");
    }

    public long errors() {
        throw new UnsupportedOperationException("core in progress");
    }

    public long bytesRead() {
        throw new UnsupportedOperationException("core in progress");
    }

    public long bytesWritten() {
        throw new UnsupportedOperationException("core in progress");
    }

    /** Last failure reason (for status output), or null. */
    public String lastError() {
        throw new UnsupportedOperationException("core in progress");
    }

    /** The info of the current or last session, or null if it never connected. */
    public BackendInfo info() {
        throw new UnsupportedOperationException("core in progress");
    }
}
