package io.mpathnbd.core.export;

import io.mpathnbd.core.backend.Capability;
import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.backend.FailureKind;
import io.mpathnbd.core.observe.ExportObserver;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.path.PathSession;
import io.mpathnbd.core.policy.IoPolicy;
import io.mpathnbd.core.request.BlockFlags;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.core.request.Extents;
import io.mpathnbd.core.time.Durations;
import io.netty.buffer.ByteBuf;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * A request's life in the export, from {@link #submit} to its one answer.
 *
 * <p>The iopolicy picks a usable path from the lock-free snapshot, and the request goes to that path's session with
 * an {@link Attempt} as callback. The outcome is handled on the backend's thread: success and target errors go to
 * the client's sink; a path error fails the path (once per event) and requeues the request through the policy,
 * bounded by max-retries and the deadline; data-modifying requests pass the {@link WriteFence} first. With no usable
 * path the request goes to the {@link HoldQueue}.
 */
final class Dispatcher {
    private final Export export;
    private final ExportObserver observer;
    private final PathSet paths;
    private final DiskProfile disk;
    private final Timers timers;
    private final boolean deadlines;
    private final long noPathTimeoutNanos;
    private final long retryDelayNanos;
    private final int maxRetries;
    private final String shuttingDown;
    final HoldQueue held;
    final WriteFence fence;
    /** Requests waiting on a timer (fence, retry delay); whoever removes one from here resumes or fails it. */
    private final Set<BlockRequest> waiting = ConcurrentHashMap.newKeySet();
    private final LongAdder requeues = new LongAdder();
    private final ClientErrorLog errorLog = new ClientErrorLog();
    final ReservationConflicts conflicts;
    private volatile IoPolicy policy;
    private volatile ZonedWrites zoned;

    Dispatcher(Export export, IoPolicy policy, ExportObserver observer, PathSet paths, DiskProfile disk,
            Timers timers) {
        ExportConfig config = export.config();
        this.export = export;
        this.policy = policy;
        this.observer = observer;
        this.paths = paths;
        this.disk = disk;
        this.timers = timers;
        this.deadlines = !config.queueIfNoPath();
        this.noPathTimeoutNanos = Durations.nanos(config.noPathTimeout());
        this.retryDelayNanos = Durations.nanos(config.retryDelay());
        this.maxRetries = config.maxRetries();
        this.shuttingDown = "export " + export.name() + " is shutting down";
        this.conflicts = new ReservationConflicts(export.name(), observer);
        this.held = new HoldQueue(export, this, paths, observer, timers);
        this.fence = new WriteFence(this, timers, Durations.nanos(config.fenceDelay()));
    }

    String exportName() {
        return export.name();
    }

    String shuttingDown() {
        return shuttingDown;
    }

    IoPolicy policy() {
        return policy;
    }

    void policy(IoPolicy next) {
        policy = next;
    }

    long requeues() {
        return requeues.sum();
    }

    // ------------------------------------------------------------ sending

    void submit(BlockRequest request) {
        long now = System.nanoTime();
        request.startNanos(now);
        request.deadlineNanos(now + noPathTimeoutNanos);
        if (refuseIfClosed(request)) {
            return;
        }
        BlockOp op = request.op();
        if (op == BlockOp.BLOCK_STATUS && !Capability.has(disk.capabilities(), Capability.BLOCK_STATUS)) {
            // no path reports allocation: everything is data, as NBD allows
            request.releasePayload();
            request.sink().succeeded(request, null, Extents.allData(request.length()));
            return;
        }
        if (op == BlockOp.FLUSH && !held.paused()) {
            export.control().flush(request);
            return;
        }
        if (op.modifiesData() && disk.zones() != null) {
            if (op != BlockOp.TRIM) {
                zonedWrites().submit(request);
                return;
            }
            if (export.config().trimResetsZones()) {
                zonedWrites().trim(request);
                return;
            }
        }
        dispatch(request, null);
    }

    /** The zoned export's write plugs, made on first use; null when the export is not zoned. */
    ZonedWrites zonedWrites() {
        ZonedWrites z = zoned;
        if (z == null && disk.zones() != null) {
            synchronized (this) {
                z = zoned;
                if (z == null) {
                    z = new ZonedWrites(this, export.control(), timers, disk.zones(), retryDelayNanos);
                    zoned = z;
                }
            }
        }
        return z;
    }

    /** Picks a path and sends; with none usable, holds or fails the request; while I/O is paused, holds it. */
    void dispatch(BlockRequest request, Path exclude) {
        if (refuseIfClosed(request)) {
            return;
        }
        if (held.paused()) {
            held.park(request);
            return;
        }
        IoPolicy pol = policy;
        for (int tries = 0; tries < 4; tries++) {
            Path[] snapshot = paths.snapshot();
            Path p = pol.select(request, snapshot, exclude);
            if (p == null && exclude != null) {
                // the excluded path may have reconnected meanwhile; better it than nothing
                p = pol.select(request, snapshot, null);
            }
            if (p == null) {
                break;
            }
            PathSession s = p.session();
            if (s != null) {
                send(request, p, s);
                return;
            }
            exclude = p; // lost its session between selection and now
        }
        held.park(request);
    }

    void send(BlockRequest request, Path p, PathSession s) {
        request.incrementAttempts();
        BlockOp op = request.op();
        int bytes = op == BlockOp.READ || op == BlockOp.WRITE ? request.length() : 0;
        long mark = op == BlockOp.FLUSH ? p.modificationMark() : 0;
        Attempt attempt = new Attempt(this, request, p, s, bytes, System.nanoTime(), mark);
        p.beginRequest(bytes);
        s.backend().submit(request, attempt);
    }

    // ------------------------------------------------------------ outcomes

    void succeeded(Attempt a, ByteBuf data, Extents extents) {
        BlockRequest request = a.request;
        BlockOp op = request.op();
        if (op == BlockOp.READ && (data == null || data.readableBytes() != request.length())) {
            int got = data == null ? 0 : data.readableBytes();
            if (data != null) {
                data.release();
            }
            failed(a, Failure.path("path " + a.path.id() + " returned " + got + " bytes for a read of "
                    + request.length()));
            return;
        }
        Path p = a.path;
        long now = System.nanoTime();
        p.endRequest(op, a.bytes, false, now);
        observer.requestCompleted(p, op, a.bytes, now - a.startNanos, false);
        if (op.modifiesData()) {
            if (!request.hasFlag(BlockFlags.FUA)) {
                p.noteModification();
            }
        } else if (op == BlockOp.FLUSH) {
            p.flushedUpTo(a.flushMark);
        }
        request.releasePayload();
        if (op == BlockOp.READ) {
            request.sink().succeeded(request, data, null);
            return;
        }
        if (data != null) {
            data.release();
        }
        if (op == BlockOp.BLOCK_STATUS) {
            Extents e = extents != null && Capability.has(disk.capabilities(), Capability.BLOCK_STATUS)
                    ? extents : Extents.allData(request.length());
            request.sink().succeeded(request, null, request.hasFlag(BlockFlags.REQ_ONE) ? e.first() : e);
            return;
        }
        request.sink().succeeded(request, null, null);
    }

    void failed(Attempt a, Failure failure) {
        BlockRequest request = a.request;
        Path p = a.path;
        BlockOp op = request.op();
        FailureKind kind = failure.kind() == null ? FailureKind.PATH : failure.kind();
        if (kind == FailureKind.PATH || kind == FailureKind.TIMEOUT) {
            // before this request leaves the path's in-flight count, so the failover line counts it
            p.noteError(failure.message());
            p.fail(a.session, failure.message());
        }
        long now = System.nanoTime();
        p.endRequest(op, a.bytes, true, now);
        observer.requestCompleted(p, op, a.bytes, now - a.startNanos, true);
        if (kind == FailureKind.RESERVATION_CONFLICT) {
            conflicts.refused(p, failure.message());
        }
        if (kind == FailureKind.TARGET || kind == FailureKind.RESERVATION_CONFLICT) {
            // the disk's own answer: the client sees it, whichever path carried it
            finish(request, failure.errno() == 0 ? Errno.EIO : failure.errno(), failure.message());
            return;
        }
        if (refuseIfClosed(request)) {
            return;
        }
        String why = exhausted(request, now);
        if (why != null) {
            giveUp(request, why + "; last error on path " + p.id() + ": " + failure.message());
            return;
        }
        if (kind == FailureKind.RETRY_SAME_PATH) {
            retryOnSamePath(request, p);
            return;
        }
        requeues.increment();
        observer.requeued(export.name(), p);
        if (op.modifiesData()) {
            waiting.add(request);
            fence.hold(request, p, a.session);
        } else {
            dispatch(request, p);
        }
    }

    /** Why a request may not try again, or null. */
    private String exhausted(BlockRequest request, long now) {
        if (request.attempts() > maxRetries) {
            return "gave up after " + request.attempts() + " attempts";
        }
        if (deadlines && now - request.deadlineNanos() >= 0) {
            return "no-path-timeout of " + Durations.format(noPathTimeoutNanos) + " expired";
        }
        return null;
    }

    private void retryOnSamePath(BlockRequest request, Path p) {
        waiting.add(request);
        timers.schedule(() -> {
            if (!waiting.remove(request)) {
                return;
            }
            if (refuseIfClosed(request)) {
                return;
            }
            PathSession s = p.session();
            if (s != null && p.selectable() && !held.paused()) {
                send(request, p, s);
            } else {
                dispatch(request, null);
            }
        }, retryDelayNanos);
    }

    /** The fence has passed for an in-doubt write: send it again, preferably elsewhere (unless closing took it). */
    void resumeFenced(BlockRequest request, Path failedPath) {
        if (!waiting.remove(request)) {
            return;
        }
        if (refuseIfClosed(request)) {
            return;
        }
        if (deadlines && System.nanoTime() - request.deadlineNanos() >= 0) {
            giveUp(request, "in-doubt write not retried: no-path-timeout of " + Durations.format(noPathTimeoutNanos)
                    + " expired while it was fenced");
            return;
        }
        if (request.exportState() instanceof ZoneWrite w) {
            w.owner.inDoubt(w, failedPath); // never a blind resend into a sequential zone
            return;
        }
        dispatch(request, failedPath);
    }

    // ------------------------------------------------------------ failing requests

    boolean closed() {
        return paths.closed();
    }

    /** Fails the request with ESHUTDOWN if the export is closing; true if it did. */
    boolean refuseIfClosed(BlockRequest request) {
        if (!paths.closed()) {
            return false;
        }
        finish(request, Errno.ESHUTDOWN, shuttingDown);
        return true;
    }

    /** Fails a request towards its client (exactly once per request). */
    void finish(BlockRequest request, int errno, String message) {
        request.releasePayload();
        request.sink().failed(request, errno, message);
    }

    /** A request that ran out of paths, retries or time: EIO, and a (rate-limited) warning. */
    void giveUp(BlockRequest request, String why) {
        String message = "export " + export.name() + ": " + request.op() + " failed: " + why;
        errorLog.eio(message);
        finish(request, Errno.EIO, message);
    }

    /** Export close: fails every held or waiting request with ESHUTDOWN; returns how many. */
    int failAllWaiting() {
        int failed = held.failAll(Errno.ESHUTDOWN, shuttingDown);
        for (BlockRequest r : waiting) {
            if (waiting.remove(r)) {
                finish(r, Errno.ESHUTDOWN, shuttingDown);
                failed++;
            }
        }
        return failed;
    }
}
