package io.mpathnbd.core.backend;

/** How the core must treat a failed attempt. The backend, which understands its transport, decides. */
public enum FailureKind {
    /**
     * The path is at fault (connection lost, protocol failure, transport error): fail over to another path. A
     * data-modifying request may have reached the backend before the path broke, so it is fenced like a TIMEOUT
     * (see the export's write fence) before it is retried.
     */
    PATH,
    /**
     * The path stopped answering this request in time. A path error, and for writes also a fence trigger: the write
     * may still land later, so it is retried elsewhere only after the path's connection is closed and the fence delay
     * has passed.
     */
    TIMEOUT,
    /** The disk itself refuses the request (invalid, out of range, no space, read-only...): return to the client. */
    TARGET,
    /** A transient condition on this path (busy, unit attention, transitioning): retry on the same path after a delay. */
    RETRY_SAME_PATH,
    /**
     * The disk refuses the command because of a persistent reservation (SCSI RESERVATION CONFLICT). A target error,
     * treated as {@link #TARGET} on the I/O path; its own kind because reservation commands act on it (a RESERVE
     * that conflicts while our key already holds the reservation, a REGISTER retried with IGNORE EXISTING KEY).
     */
    RESERVATION_CONFLICT
}
