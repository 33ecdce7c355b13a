package io.mpathnbd.iscsi.backend;

import io.mpathnbd.core.backend.AccessStateSource;
import io.mpathnbd.core.backend.BackendCallback;
import io.mpathnbd.core.backend.BackendException;
import io.mpathnbd.core.backend.BackendInfo;
import io.mpathnbd.core.backend.BackendSession;
import io.mpathnbd.core.backend.EventLoopAffinity;
import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.backend.ReservationOps;
import io.mpathnbd.core.backend.AccessState;
import io.mpathnbd.core.request.BlockFlags;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.iscsi.scsi.Cdbs;
import io.mpathnbd.iscsi.scsi.ScsiClassifier;
import io.mpathnbd.iscsi.scsi.ScsiClassifier.Action;
import io.mpathnbd.iscsi.scsi.ScsiClassifier.Classification;
import io.mpathnbd.iscsi.scsi.ScsiStatus;
import io.mpathnbd.iscsi.scsi.SenseData;
import io.mpathnbd.iscsi.session.IscsiConnection;
import io.mpathnbd.iscsi.session.ScsiCallback;
import io.mpathnbd.iscsi.session.ScsiResult;
import io.mpathnbd.iscsi.session.ScsiTask;
import io.mpathnbd.iscsi.session.TaskFailure;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One iSCSI session (one connection, ERL 0) to one logical unit, as the core's backend session. Block requests become
 * SCSI commands ({@link BlockCommands}); answers are classified by {@link ScsiClassifier} into the core's failure
 * kinds. When the unit reports ALUA, the path's access state follows it: read at attach, re-read when a unit
 * attention or sense says the states may have changed, and on every probe.
 */
final class IscsiBackendSession implements BackendSession, AccessStateSource, EventLoopAffinity {
    private static final Logger LOG = LoggerFactory.getLogger(IscsiBackendSession.class);
    /** An orderly logout is tried for at most this long before the connection is just closed. */
    private static final long LOGOUT_BOUND_MILLIS = 2000;

    private final String display;
    private final IscsiConnection connection;
    private final int lun;
    private final Attachment attachment;
    private final BackendInfo info;
    private final BlockCommands commands;
    private final Duration requestTimeout;
    private final IscsiReservations reservations;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicBoolean closing = new AtomicBoolean();
    private final AtomicBoolean aluaReading = new AtomicBoolean();
    private final CompletableFuture<Void> closeFuture = new CompletableFuture<>();
    private volatile boolean troubled;
    private volatile boolean closedByUs;
    private volatile AccessState accessState;
    private volatile Consumer<AccessState> accessListener;

    IscsiBackendSession(String display, IscsiConnection connection, int lun, Attachment attachment, BackendInfo info,
            Duration requestTimeout) {
        this.display = display;
        this.connection = connection;
        this.lun = lun;
        this.attachment = attachment;
        this.info = info;
        this.commands = new BlockCommands(attachment);
        this.requestTimeout = requestTimeout;
        this.reservations = new IscsiReservations(connection, lun, display);
        this.accessState = attachment.alua() == null ? null : attachment.alua().state();
        connection.onUnitAttention(this::unitAttention);
        connection.closeFuture().whenComplete((v, e) -> {
            if (!closedByUs) {
                LOG.warn("{}: session lost: {}", display, lossReason());
            }
            closeFuture.complete(null);
        });
    }

    @Override
    public BackendInfo info() {
        return info;
    }

    Attachment attachment() {
        return attachment;
    }

    /** PERSISTENT RESERVE IN and OUT on this session's nexus. */
    @Override
    public ReservationOps reservations() {
        return reservations;
    }

    @Override
    public EventExecutor eventLoop() {
        return connection.eventLoop();
    }

    IscsiConnection connection() {
        return connection;
    }

    int lun() {
        return lun;
    }

    // ------------------------------------------------------------------ I/O

    @Override
    public void submit(BlockRequest request, BackendCallback callback) {
        BlockOp op = request.op();
        switch (op) {
            case CACHE:
                callback.succeeded(null, null); // an advisory prefetch: nothing to do
                return;
            case BLOCK_STATUS:
                callback.succeeded(null, null); // no allocation reporting: the core answers "all data"
                return;
            default:
                break;
        }
        if (request.length() == 0 && op != BlockOp.FLUSH) {
            callback.succeeded(op == BlockOp.READ ? Unpooled.EMPTY_BUFFER : null, null);
            return;
        }
        Failure invalid = commands.check(request);
        if (invalid != null) {
            callback.failed(invalid);
            return;
        }
        if (op == BlockOp.READ || op == BlockOp.WRITE || op == BlockOp.FLUSH) {
            execute(commands.single(lun, request), new Completion(this, request, callback));
            return;
        }
        new RangeCommand(this, request, callback, commands).next();
    }

    void execute(ScsiTask task, ScsiCallback cb) {
        inFlight.incrementAndGet();
        try {
            connection.execute(task, cb);
        } catch (RuntimeException e) {
            cb.failed(new TaskFailure(TaskFailure.Kind.CONNECTION_LOST, "cannot send: " + e.getMessage()));
        }
    }

    void taskDone() {
        inFlight.decrementAndGet();
    }

    /**
     * Reports a command's non-GOOD answer as the core's failure: retries on the same path after the back-off the
     * classifier asks for (busy, transitioning); starts an ALUA re-read when the sense says states may have changed.
     */
    void fail(BlockRequest request, BackendCallback callback, Classification c, SenseData sense) {
        if (c.rereadAlua()) {
            refreshAlua("sense " + sense);
        }
        String message = display + ": " + request.op() + " at " + request.offset() + ": " + c.message();
        switch (c.action()) {
            case PATH:
                troubled = true;
                callback.failed(Failure.path(message));
                return;
            case RETRY_SAME_PATH:
                failLater(callback, Failure.retrySamePath(message), c.retryDelayNanos());
                return;
            case RESERVATION_CONFLICT:
                callback.failed(Failure.reservationConflict(message));
                return;
            default:
                callback.failed(c.zoneError() != null ? Failure.zone(c.zoneError(), message)
                        : Failure.target(targetErrno(request.op(), c.errno(), sense), message));
        }
    }

    /**
     * Errno refinements the classifier leaves to the driver: LBA out of range on a write means no space; an
     * unsupported command or field on an optional operation means "not supported", so clients fall back.
     */
    static int targetErrno(BlockOp op, int errno, SenseData sense) {
        if (sense == null || sense.key() != SenseData.ILLEGAL_REQUEST) {
            return errno;
        }
        if (sense.asc() == 0x21 && sense.ascq() == 0x00 && op.modifiesData()) {
            return Errno.ENOSPC;
        }
        boolean unsupported = sense.asc() == 0x20 || (sense.asc() == 0x24 && sense.ascq() == 0x00);
        if (unsupported && (op == BlockOp.TRIM || op == BlockOp.WRITE_ZEROES)) {
            return Errno.ENOTSUP;
        }
        return errno;
    }

    Failure failureOf(BlockRequest request, TaskFailure failure) {
        String message = display + ": " + request.op() + " at " + request.offset() + ": " + failure;
        troubled = true;
        return failure.kind() == TaskFailure.Kind.TIMEOUT ? Failure.timeout(message) : Failure.path(message);
    }

    /** Reports {@code failure} after {@code delayNanos} on the connection's loop (a back-off the core cannot know). */
    void failLater(BackendCallback callback, Failure failure, long delayNanos) {
        if (delayNanos <= 0) {
            callback.failed(failure);
            return;
        }
        try {
            connection.eventLoop().schedule(() -> callback.failed(failure), delayNanos, TimeUnit.NANOSECONDS);
        } catch (RuntimeException e) {
            callback.failed(failure);
        }
    }

    // ------------------------------------------------------------------ ALUA

    @Override
    public AccessState accessState() {
        return accessState;
    }

    @Override
    public void onAccessStateChange(Consumer<AccessState> listener) {
        accessListener = listener;
    }

    private void unitAttention(byte[] senseBytes) {
        SenseData s = ControlCommand.sense(senseBytes);
        Classification c = ScsiClassifier.classify(ScsiStatus.CHECK_CONDITION, s);
        LOG.info("{}: asynchronous event: {}", display, c.message());
        if (c.rereadAlua()) {
            refreshAlua("asynchronous " + s);
        }
    }

    /** Re-reads the port groups (one read at a time) and reports a changed state. */
    CompletableFuture<Void> refreshAlua(String why) {
        if (attachment.alua() == null || closing.get() || !aluaReading.compareAndSet(false, true)) {
            return CompletableFuture.completedFuture(null);
        }
        return new Attacher(connection, lun, display).readAlua(attachment).handle((r, e) -> {
            aluaReading.set(false);
            if (e != null) {
                LOG.debug("{}: re-reading ALUA state ({}) failed: {}", display, why, e.getMessage());
                return null;
            }
            AccessState before = accessState;
            if (r.state() != before) {
                accessState = r.state();
                LOG.info("{}: ALUA state {} -> {} ({})", display, before == null ? "?" : before.label(),
                        r.describe(), why);
                Consumer<AccessState> l = accessListener;
                if (l != null) {
                    l.accept(r.state());
                }
            }
            return null;
        });
    }

    // ------------------------------------------------------------------ health and lifetime

    /** TEST UNIT READY: any answer but a path error shows the unit reachable; with ALUA the state is re-read too. */
    @Override
    public CompletableFuture<Void> probe() {
        CompletableFuture<Void> result = new CompletableFuture<>();
        ControlCommand.run(connection, lun, Cdbs.testUnitReady(), 0, display + ": probe").whenComplete((a, e) -> {
            if (e != null) {
                troubled = true;
                result.completeExceptionally(e instanceof BackendException ? e
                        : new BackendException(display + ": probe failed: " + e.getMessage(), e));
                return;
            }
            Classification c = a.classify();
            if (c.rereadAlua()) {
                refreshAlua("probe: " + c.message());
            }
            if (c.action() == Action.PATH) {
                troubled = true;
                result.completeExceptionally(new BackendException(display + ": probe: " + c.message()));
                return;
            }
            if (c.action() == Action.OK) {
                refreshAlua("probe");
            }
            result.complete(null);
        });
        return result.orTimeout(requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Logs out when the session is idle and healthy (the target forgets it at once); otherwise, or when the logout
     * takes too long, closes the connection. Completes when the socket is closed.
     */
    @Override
    public CompletableFuture<Void> close() {
        if (closing.compareAndSet(false, true)) {
            closedByUs = connection.lossReason() == null;
            if (!troubled && inFlight.get() == 0) {
                LOG.info("{}: logging out", display);
                CompletableFuture<Void> logout;
                try {
                    logout = connection.logout();
                } catch (RuntimeException e) {
                    logout = CompletableFuture.failedFuture(e);
                }
                logout.orTimeout(LOGOUT_BOUND_MILLIS, TimeUnit.MILLISECONDS).whenComplete((v, e) -> {
                    if (e != null) {
                        LOG.info("{}: logout did not complete ({}); closing the connection", display,
                                logoutFailure(e));
                    }
                    connection.close();
                });
            } else {
                LOG.info("{}: closing session ({} command(s) in flight)", display, inFlight.get());
                connection.close();
            }
        }
        return closeFuture;
    }

    @Override
    public CompletableFuture<Void> closeFuture() {
        return closeFuture;
    }

    @Override
    public String lossReason() {
        return closedByUs ? null : connection.lossReason();
    }

    @Override
    public String toString() {
        return "IscsiBackendSession[" + display + "]";
    }

    /** The answer to a single-command request (READ, WRITE, FLUSH). */
    private static final class Completion implements ScsiCallback {
        private final IscsiBackendSession session;
        private final BlockRequest request;
        private final BackendCallback callback;

        Completion(IscsiBackendSession session, BlockRequest request, BackendCallback callback) {
            this.session = session;
            this.request = request;
            this.callback = callback;
        }

        @Override
        public void completed(ScsiResult result) {
            session.taskDone();
            int status = result.status();
            if (status != ScsiStatus.GOOD) {
                SenseData sense = ControlCommand.sense(result.sense());
                Classification c = ScsiClassifier.classify(status, sense);
                if (c.action() != Action.OK) {
                    result.release();
                    session.fail(request, callback, c, sense);
                    return;
                }
            }
            if (request.op() != BlockOp.READ) {
                result.release();
                callback.succeeded(null, null);
                return;
            }
            ByteBuf data = result.data();
            int got = data.readableBytes();
            if (got == request.length()) {
                ByteBuf mine = data.retain();
                result.release();
                callback.succeeded(mine, null);
                return;
            }
            result.release();
            session.troubled = true;
            callback.failed(Failure.path(session.display + ": READ at " + request.offset() + " of "
                    + request.length() + " bytes returned " + got));
        }

        @Override
        public void failed(TaskFailure failure) {
            session.taskDone();
            callback.failed(session.failureOf(request, failure));
        }
    }

    /** Why a logout did not complete, in words (a timeout carries no message of its own). */
    private static String logoutFailure(Throwable e) {
        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        if (cause instanceof TimeoutException) {
            return "no answer within " + LOGOUT_BOUND_MILLIS + " ms";
        }
        return cause.getMessage() != null ? cause.getMessage() : cause.getClass().getSimpleName();
    }
}
