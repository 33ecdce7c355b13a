package io.mpathnbd.core.backend;

import io.mpathnbd.core.request.Errno;

/**
 * A failed attempt: its kind, the errno the client would see if it came to that, and a message for logs.
 * Allocated only on errors.
 */
public record Failure(FailureKind kind, int errno, String message) {

    public static Failure path(String message) {
        return new Failure(FailureKind.PATH, Errno.EIO, message);
    }

    public static Failure timeout(String message) {
        return new Failure(FailureKind.TIMEOUT, Errno.EIO, message);
    }

    public static Failure target(int errno, String message) {
        return new Failure(FailureKind.TARGET, errno, message);
    }

    public static Failure retrySamePath(String message) {
        return new Failure(FailureKind.RETRY_SAME_PATH, Errno.EIO, message);
    }

    /** errno EPERM, as SCSI RESERVATION CONFLICT has always been reported to clients. */
    public static Failure reservationConflict(String message) {
        return new Failure(FailureKind.RESERVATION_CONFLICT, Errno.EPERM, message);
    }

    /** The disk's own answer (also a reservation conflict): another path would answer the same. */
    public boolean isTargetError() {
        return kind == FailureKind.TARGET || kind == FailureKind.RESERVATION_CONFLICT;
    }

    public boolean isPathError() {
        return kind == FailureKind.PATH || kind == FailureKind.TIMEOUT;
    }
}
