package io.mpathnbd.iscsi.scsi;

import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.core.zone.ZoneError;
import java.util.concurrent.TimeUnit;

/**
 * Turns a command's SCSI status and sense into what the core does with it: path errors fail over, target errors go
 * back to the client, transient conditions retry on the same path. Mirrors Linux's scsi_check_sense and
 * scsi_dh_alua (see the reference page's table).
 */
public final class ScsiClassifier {

    /**
     * RESERVATION_CONFLICT: the disk's answer like TARGET, but its own action: being fenced by another host's
     * reservation is not a path error, and the export counts and reports it apart from other refusals.
     */
    public enum Action { OK, RETRY_SAME_PATH, PATH, TARGET, RESERVATION_CONFLICT }

    /**
     * {@code errno}: what the client sees (0 for OK, EIO for path and retry outcomes). {@code rereadAlua}: the
     * access states may have changed, read REPORT TARGET PORT GROUPS again. {@code reservationChanged}: the
     * persistent reservation state was changed by another initiator. {@code zoneError}: a zoned disk's refusal
     * (ZBC sense), a TARGET action; null otherwise.
     */
    public record Classification(Action action, int errno, long retryDelayNanos, boolean rereadAlua,
            boolean reservationChanged, String message, ZoneError zoneError) {

        Classification(Action action, int errno, long retryDelayNanos, boolean rereadAlua,
                boolean reservationChanged, String message) {
            this(action, errno, retryDelayNanos, rereadAlua, reservationChanged, message, null);
        }

        /** The core's failure value; null for {@link Action#OK}. */
        public Failure toFailure() {
            switch (action) {
                case OK: return null;
                case RETRY_SAME_PATH: return Failure.retrySamePath(message);
                case PATH: return Failure.path(message);
                case RESERVATION_CONFLICT: return Failure.reservationConflict(message);
                default: return zoneError != null ? Failure.zone(zoneError, message) : Failure.target(errno, message);
            }
        }
    }

    static final long BUSY_DELAY_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    static final long TASK_SET_FULL_DELAY_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** Linux's ALUA handler polls a transitioning group every 2 s; retrying sooner mostly earns another 04/0A. */
    static final long TRANSITIONING_DELAY_NANOS = TimeUnit.SECONDS.toNanos(1);

    private static final Classification OK = new Classification(Action.OK, Errno.OK, 0, false, false, "GOOD");

    private ScsiClassifier() {
    }

    /** Allocation-free for GOOD, the hot-path case. */
    public static Classification classify(int status, SenseData senseOrNull) {
        switch (status) {
            case ScsiStatus.GOOD:
            case ScsiStatus.CONDITION_MET:
                return OK;
            case ScsiStatus.BUSY:
                return retry(BUSY_DELAY_NANOS, false, false, "BUSY");
            case ScsiStatus.TASK_SET_FULL:
                return retry(TASK_SET_FULL_DELAY_NANOS, false, false, "TASK SET FULL");
            case ScsiStatus.RESERVATION_CONFLICT:
                return new Classification(Action.RESERVATION_CONFLICT, Errno.EPERM, 0, false, false,
                        "RESERVATION CONFLICT");
            case ScsiStatus.CHECK_CONDITION:
                return senseOrNull == null ? path("CHECK CONDITION without sense data") : checkCondition(senseOrNull);
            case ScsiStatus.TASK_ABORTED:
                return path("TASK ABORTED");
            default:
                return path("unexpected SCSI " + ScsiStatus.name(status));
        }
    }

    private static Classification checkCondition(SenseData s) {
        String m = "CHECK CONDITION " + s + AdditionalSense.describe(s.asc(), s.ascq());
        // before the sense key: an offline zone comes with NOT READY, which would otherwise fail the path over,
        // and every path of the disk would answer the same
        ZoneError zone = ZoneError.ofSense(s.asc(), s.ascq());
        if (zone != null) {
            return new Classification(Action.TARGET, Failure.zone(zone, m).errno(), 0, false, false, m, zone);
        }
        switch (s.key()) {
            case SenseData.UNIT_ATTENTION:
                return retry(0, s.asc() == 0x29 || (s.asc() == 0x2A && (s.ascq() == 0x06 || s.ascq() == 0x07)),
                        s.asc() == 0x2A && s.ascq() >= 0x03 && s.ascq() <= 0x05, m);
            case SenseData.NOT_READY:
                return notReady(s, m);
            case SenseData.ILLEGAL_REQUEST:
                return target(Errno.EINVAL, m);
            case SenseData.DATA_PROTECT:
                return target(s.asc() == 0x27 && s.ascq() == 0x07 ? Errno.ENOSPC : Errno.EPERM, m);
            case SenseData.ABORTED_COMMAND:
                return path(m);
            case SenseData.RECOVERED_ERROR:
                // The target recovered and completed the command; the data is good.
                return OK;
            case SenseData.NO_SENSE:
                // CHECK CONDITION that reports no error: transient, give the same path another try.
                return retry(0, false, false, m);
            default:
                // MEDIUM ERROR, HARDWARE ERROR and the rest: the disk failed this command.
                return target(Errno.EIO, m);
        }
    }

    private static Classification notReady(SenseData s, String m) {
        if (s.asc() == 0x04 && s.ascq() == 0x0A) {
            return retry(TRANSITIONING_DELAY_NANOS, true, false, m);
        }
        // Standby and unavailable are ALUA states too: re-reading them lets the path show its real access state.
        boolean alua = s.asc() == 0x04 && (s.ascq() == 0x0B || s.ascq() == 0x0C);
        return new Classification(Action.PATH, Errno.EIO, 0, alua, false, m);
    }

    private static Classification retry(long delayNanos, boolean alua, boolean reservation, String m) {
        return new Classification(Action.RETRY_SAME_PATH, Errno.EIO, delayNanos, alua, reservation, m);
    }

    private static Classification path(String m) {
        return new Classification(Action.PATH, Errno.EIO, 0, false, false, m);
    }

    private static Classification target(int errno, String m) {
        return new Classification(Action.TARGET, errno, 0, false, false, m);
    }
}
