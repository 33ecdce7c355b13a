package io.mpathnbd.iscsi.backend;

import io.mpathnbd.core.backend.ControlResult;
import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.backend.ReservationOps;
import io.mpathnbd.core.backend.ReservationOps.FullStatus;
import io.mpathnbd.core.backend.ReservationOps.RegisterFlags;
import io.mpathnbd.core.backend.ReservationType;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.iscsi.scsi.PersistentReserve;
import io.mpathnbd.iscsi.scsi.ScsiClassifier;
import io.mpathnbd.iscsi.scsi.ScsiFormatException;
import io.mpathnbd.iscsi.scsi.ScsiStatus;
import io.mpathnbd.iscsi.scsi.SenseData;
import io.mpathnbd.iscsi.session.IscsiConnection;
import io.netty.buffer.ByteBuf;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Persistent reservations on one iSCSI session's nexus, each call one PERSISTENT RESERVE IN or OUT command. A unit
 * attention (often the news of another nexus's preempt or release) is retried on the same session a few times, as
 * the command itself was not run, and counts as a path error if it persists; RESERVATION CONFLICT is its own kind; ILLEGAL REQUEST means this disk does not
 * support the service action or type (tgt refuses PREEMPT AND ABORT so), reported as ENOTSUP.
 */
final class IscsiReservations implements ReservationOps {
    /** Enough for 1023 keys; more would be a strange cluster. */
    private static final int KEYS_ALLOC = 8 + 8 * 1023;
    private static final int RESERVATION_ALLOC = 24;
    private static final int CAPABILITIES_ALLOC = 8;
    /** Room for a few dozen nexuses with long iSCSI names. */
    private static final int FULL_STATUS_ALLOC = 0xffff;
    private static final int MAX_TRIES = 4;

    private final IscsiConnection connection;
    private final int lun;
    private final String display;

    IscsiReservations(IscsiConnection connection, int lun, String display) {
        this.connection = connection;
        this.lun = lun;
        this.display = display;
    }

    @Override
    public CompletableFuture<ControlResult<Keys>> readKeys() {
        return in(PersistentReserve.READ_KEYS, KEYS_ALLOC, "READ KEYS", PersistentReserve::keys);
    }

    @Override
    public CompletableFuture<ControlResult<Status>> readReservation() {
        return in(PersistentReserve.READ_RESERVATION, RESERVATION_ALLOC, "READ RESERVATION",
                PersistentReserve::reservation);
    }

    @Override
    public CompletableFuture<ControlResult<Capabilities>> reportCapabilities() {
        return in(PersistentReserve.REPORT_CAPABILITIES, CAPABILITIES_ALLOC, "REPORT CAPABILITIES",
                PersistentReserve::capabilities);
    }

    @Override
    public CompletableFuture<ControlResult<FullStatus>> readFullStatus() {
        return in(PersistentReserve.READ_FULL_STATUS, FULL_STATUS_ALLOC, "READ FULL STATUS",
                PersistentReserve::fullStatus);
    }

    @Override
    public CompletableFuture<ControlResult<Void>> register(long oldKey, long newKey, boolean ignoreExisting) {
        return register(oldKey, newKey, ignoreExisting, RegisterFlags.NONE);
    }

    @Override
    public CompletableFuture<ControlResult<Void>> register(long oldKey, long newKey, boolean ignoreExisting,
            RegisterFlags flags) {
        String with = flags.any() ? " with " + flags : "";
        return ignoreExisting
                ? out(PersistentReserve.REGISTER_AND_IGNORE_EXISTING_KEY, null, 0, newKey, flags,
                        "REGISTER AND IGNORE EXISTING KEY" + with)
                : out(PersistentReserve.REGISTER, null, oldKey, newKey, flags, "REGISTER" + with);
    }

    @Override
    public CompletableFuture<ControlResult<Void>> reserve(long key, ReservationType type) {
        return out(PersistentReserve.RESERVE, Objects.requireNonNull(type, "type"), key, 0, "RESERVE");
    }

    @Override
    public CompletableFuture<ControlResult<Void>> release(long key, ReservationType type) {
        return out(PersistentReserve.RELEASE, Objects.requireNonNull(type, "type"), key, 0, "RELEASE");
    }

    @Override
    public CompletableFuture<ControlResult<Void>> clear(long key) {
        return out(PersistentReserve.CLEAR, null, key, 0, "CLEAR");
    }

    @Override
    public CompletableFuture<ControlResult<Void>> preempt(long key, long victimKey, ReservationType type,
            boolean abort) {
        return out(abort ? PersistentReserve.PREEMPT_AND_ABORT : PersistentReserve.PREEMPT,
                Objects.requireNonNull(type, "type"), key, victimKey, abort ? "PREEMPT AND ABORT" : "PREEMPT");
    }

    private <T> CompletableFuture<ControlResult<T>> in(int action, int alloc, String what,
            Function<ByteBuf, T> parse) {
        return run(PersistentReserve.in(action, alloc), null, alloc, what, 1).thenApply(a -> {
            if (a.failure != null) {
                return ControlResult.failed(a.failure);
            }
            try {
                return ControlResult.ok(parse.apply(a.answer.data()));
            } catch (ScsiFormatException e) {
                return ControlResult.failed(Failure.target(Errno.EIO, display + ": " + what + ": " + e.getMessage()));
            }
        });
    }

    private CompletableFuture<ControlResult<Void>> out(int action, ReservationType type, long key, long saKey,
            String what) {
        return out(action, type, key, saKey, RegisterFlags.NONE, what);
    }

    private CompletableFuture<ControlResult<Void>> out(int action, ReservationType type, long key, long saKey,
            RegisterFlags flags, String what) {
        return run(PersistentReserve.out(action, type), PersistentReserve.parameters(key, saKey, flags), 0, what, 1)
                .thenApply(a -> a.failure == null ? ControlResult.ok() : ControlResult.failed(a.failure));
    }

    /** The answer, or why it failed; never completes exceptionally. */
    private record Outcome(ControlCommand.Answer answer, Failure failure) {
    }

    private CompletableFuture<Outcome> run(byte[] cdb, byte[] dataOut, int alloc, String what, int attempt) {
        return ControlCommand.run(connection, lun, cdb, dataOut, alloc, display + ": " + what).handle((a, e) -> {
            if (e != null) {
                return CompletableFuture.completedFuture(new Outcome(null, ControlCommand.failureOf(e)));
            }
            if (a.good()) {
                return CompletableFuture.completedFuture(new Outcome(a, null));
            }
            ScsiClassifier.Classification c = a.classify();
            if (c.action() == ScsiClassifier.Action.RETRY_SAME_PATH && attempt < MAX_TRIES) {
                if (c.retryDelayNanos() == 0) {
                    return run(cdb, dataOut, alloc, what, attempt + 1);
                }
                return CompletableFuture.supplyAsync(() -> run(cdb, dataOut, alloc, what, attempt + 1),
                        CompletableFuture.delayedExecutor(c.retryDelayNanos(), TimeUnit.NANOSECONDS))
                        .thenCompose(Function.identity());
            }
            return CompletableFuture.completedFuture(new Outcome(null, failure(a, c, what)));
        }).thenCompose(Function.identity());
    }

    private Failure failure(ControlCommand.Answer a, ScsiClassifier.Classification c, String what) {
        String m = display + ": " + what + ": " + a.describe();
        if (a.status() == ScsiStatus.RESERVATION_CONFLICT) {
            return Failure.reservationConflict(m);
        }
        SenseData s = a.sense();
        if (a.status() == ScsiStatus.CHECK_CONDITION && s != null && s.key() == SenseData.ILLEGAL_REQUEST) {
            return Failure.target(Errno.ENOTSUP, m + " (not supported by this disk)");
        }
        return c.action() == ScsiClassifier.Action.RETRY_SAME_PATH ? Failure.path(m) : failure(c, m);
    }

    private static Failure failure(ScsiClassifier.Classification c, String m) {
        Failure f = c.toFailure();
        return new Failure(f.kind(), f.errno(), m);
    }
}
