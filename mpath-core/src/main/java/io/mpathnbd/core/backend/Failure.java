package io.mpathnbd.core.backend;

import io.mpathnbd.core.request.Errno;
import io.mpathnbd.core.zone.ZoneError;

/**
 * A failed attempt: its kind, the errno the client would see if it came to that, and a message for logs.
 * Allocated only on errors.
 *
 * @param zoneError for a zoned disk's refusal ({@link #zone}), which one; null otherwise. Such a failure is a
 *     TARGET failure like any other, so every consumer of kinds treats it right; the detail is for those that act on
 *     zones (a write-pointer resync, counting unaligned-write refusals)
 */
public record Failure(FailureKind kind, int errno, String message, ZoneError zoneError) {

    public Failure(FailureKind kind, int errno, String message) {
        this(kind, errno, message, null);
    }

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

    /**
     * A zoned disk refuses the command: a target error. The errno is what Linux reports for it where NBD can carry
     * that: EIO for unaligned writes, boundary violations and offline zones (null_blk's and the SCSI disk driver's
     * BLK_STS_IOERR), EPERM for a read-only zone (as for a read-only disk), ENOSPC for insufficient zone resources
     * (Linux's ETOOMANYREFS has no NBD value), EINVAL for an invalid request.
     */
    public static Failure zone(ZoneError error, String message) {
        return new Failure(FailureKind.TARGET, zoneErrno(error), message, error);
    }

    private static int zoneErrno(ZoneError error) {
        switch (error) {
            case ZONE_READ_ONLY: return Errno.EPERM;
            case INSUFFICIENT_ZONE_RESOURCES: return Errno.ENOSPC;
            case INVALID_REQUEST: return Errno.EINVAL;
            case UNALIGNED_WRITE:
            case BOUNDARY_VIOLATION:
            case ZONE_OFFLINE:
            default:
                return Errno.EIO;
        }
    }

    /** The disk's own answer (also a reservation conflict): another path would answer the same. */
    public boolean isTargetError() {
        return kind == FailureKind.TARGET || kind == FailureKind.RESERVATION_CONFLICT;
    }

    public boolean isPathError() {
        return kind == FailureKind.PATH || kind == FailureKind.TIMEOUT;
    }
}
