package io.mpathnbd.core.export;

import io.mpathnbd.core.backend.BackendDriver;
import io.mpathnbd.core.backend.BackendInfo;
import io.mpathnbd.core.backend.Capability;
import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.backend.FailureKind;
import io.mpathnbd.core.observe.ExportObserver;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.path.PathConfig;
import io.mpathnbd.core.path.PathEvent;
import io.mpathnbd.core.path.PathHost;
import io.mpathnbd.core.path.PathSession;
import io.mpathnbd.core.path.PathState;
import io.mpathnbd.core.policy.IoPolicies;
import io.mpathnbd.core.policy.IoPolicy;
import io.mpathnbd.core.request.BlockFlags;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.core.request.Extents;
import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.EventExecutorGroup;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The multipath disk (the kernel's "head"): its paths, iopolicy, hold queue, flush tracking and write fence.
 *
 * <p>A request's life: {@link #submit} stamps its deadline, the iopolicy picks a usable path from a lock-free
 * snapshot, and the request goes to that path's session with an {@link Attempt} as callback. The outcome comes back
 * on the backend's thread and is handled there: success and target errors go to the client's sink; a path error fails
 * the path (once per event) and requeues the request through the policy, bounded by max-retries and the deadline;
 * data-modifying requests go through the {@link WriteFence} first. With no usable path the request waits in the
 * {@link HoldQueue} if a path may come back, else fails with EIO.
 */
public final class Export {
    private static final Logger LOG = LoggerFactory.getLogger(Export.class);
    private static final Path[] NO_PATHS = new Path[0];
    /** After the first path is live, how long to wait for the other configured paths before pinning capabilities. */
    static final long READY_GRACE_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** Capabilities that describe a restriction or a property rather than an ability: united, not intersected. */
    private static final int UNITED_CAPABILITIES = Capability.READ_ONLY | Capability.ROTATIONAL;

    private final ExportConfig config;
    private final ExportObserver observer;
    private final EventExecutorGroup executors;
    private final boolean deadlines;
    private final long noPathTimeoutNanos;
    private final PathHost host = new Host();
    private final HoldQueue holdQueue = new HoldQueue(this);
    private final WriteFence fence;
    /** Requests waiting on a timer (fence, retry delay); whoever removes one from here resumes or fails it. */
    final Set<BlockRequest> waiting = ConcurrentHashMap.newKeySet();

    private volatile Path[] paths = NO_PATHS;
    private volatile IoPolicy policy;
    private volatile boolean closed;

    // geometry: decided under the lock, read without it
    private volatile boolean ready;
    private volatile long size;
    private volatile int capabilities;
    private volatile int minBlockSize = 1;
    private volatile int preferredBlockSize = 4096;
    private volatile int maxPayload;
    private volatile String identity;
    private volatile String description;
    private volatile boolean removalDelayActive;
    private volatile long removalDeadline;

    private final Object lock = new Object();
    // guarded by lock
    private final List<Path> members = new ArrayList<>();
    private final Map<Path, BackendInfo> admitted = new IdentityHashMap<>();
    private long firstSize = -1;
    private boolean identityFixed;
    private boolean started;
    private boolean graceScheduled;
    private int nextPathNumber;
    private CompletableFuture<Void> closing;

    private final CompletableFuture<Void> readyFuture = new CompletableFuture<>();
    private final LongAdder failovers = new LongAdder();
    private final LongAdder requeues = new LongAdder();
    private final AtomicLong lastClientErrorLog = new AtomicLong(System.nanoTime() - TimeUnit.SECONDS.toNanos(2));
    private final LongAdder suppressedClientErrors = new LongAdder();

    /**
     * @param executors where timers (hold timeouts, fence delays, reconnect backoff, probes) run; the front end's
     *     event loop group
     */
    public Export(ExportConfig config, ExportObserver observer, EventExecutorGroup executors) {
        this.config = config;
        this.observer = observer == null ? ExportObserver.NONE : observer;
        this.executors = executors;
        this.policy = IoPolicies.create(config.ioPolicy() == null ? IoPolicies.NUMA : config.ioPolicy());
        this.deadlines = !config.queueIfNoPath();
        this.noPathTimeoutNanos = nanos(config.noPathTimeout());
        this.fence = new WriteFence(this, nanos(config.fenceDelay()));
        this.description = config.description();
        this.identity = config.expectedIdentity();
    }

    // ---------------------------------------------------------------- geometry

    public String name() {
        return config.name();
    }

    public ExportConfig config() {
        return config;
    }

    /** True once some path has connected and the export's geometry and capabilities are known. */
    public boolean ready() {
        return ready;
    }

    /** Disk size in bytes (valid when ready). */
    public long size() {
        return size;
    }

    /** Capability bits advertised to clients: the intersection over the paths, pinned once first advertised. */
    public int capabilities() {
        return capabilities;
    }

    public int minBlockSize() {
        return minBlockSize;
    }

    public int preferredBlockSize() {
        return preferredBlockSize;
    }

    public int maxPayload() {
        return maxPayload;
    }

    public String description() {
        return description;
    }

    /** Disk identity shared by all paths, or null. */
    public String identity() {
        return identity;
    }

    // ---------------------------------------------------------------- requests

    /**
     * Takes one request. The caller has validated it against size, limits and capabilities; the export answers
     * exactly once through the request's sink.
     */
    public void submit(BlockRequest request) {
        long now = System.nanoTime();
        request.startNanos(now);
        request.deadlineNanos(now + noPathTimeoutNanos);
        if (closed) {
            finish(request, Errno.ESHUTDOWN, "export " + name() + " is shutting down");
            return;
        }
        BlockOp op = request.op();
        if (op == BlockOp.BLOCK_STATUS && !Capability.has(capabilities, Capability.BLOCK_STATUS)) {
            // no path reports allocation: everything is data, as NBD allows
            request.releasePayload();
            request.sink().succeeded(request, null, Extents.allData(request.length()));
            return;
        }
        if (op == BlockOp.FLUSH) {
            flush(request);
            return;
        }
        dispatch(request, null);
    }

    /** Picks a path and sends; with none usable, holds or fails the request. */
    void dispatch(BlockRequest request, Path exclude) {
        if (closed) {
            finish(request, Errno.ESHUTDOWN, "export " + name() + " is shutting down");
            return;
        }
        IoPolicy pol = policy;
        for (int tries = 0; tries < 4; tries++) {
            Path[] snapshot = paths;
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
        noPath(request);
    }

    private void send(BlockRequest request, Path p, PathSession s) {
        request.incrementAttempts();
        BlockOp op = request.op();
        int bytes = op == BlockOp.READ || op == BlockOp.WRITE ? request.length() : 0;
        long mark = op == BlockOp.FLUSH ? p.modificationMark() : 0;
        Attempt attempt = new Attempt(this, request, p, s, bytes, System.nanoTime(), mark);
        p.beginRequest(bytes);
        s.backend().submit(request, attempt);
    }

    void attemptSucceeded(Attempt a, ByteBuf data, Extents extents) {
        BlockRequest request = a.request;
        BlockOp op = request.op();
        if (op == BlockOp.READ && (data == null || data.readableBytes() != request.length())) {
            int got = data == null ? 0 : data.readableBytes();
            if (data != null) {
                data.release();
            }
            attemptFailed(a, Failure.path("path " + a.path.id() + " returned " + got + " bytes for a read of "
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
            Extents e = extents != null && Capability.has(capabilities, Capability.BLOCK_STATUS)
                    ? extents : Extents.allData(request.length());
            request.sink().succeeded(request, null, request.hasFlag(BlockFlags.REQ_ONE) ? e.first() : e);
            return;
        }
        request.sink().succeeded(request, null, null);
    }

    void attemptFailed(Attempt a, Failure failure) {
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
        if (kind == FailureKind.TARGET) {
            // the disk's own answer: the client sees it, whichever path carried it
            finish(request, failure.errno() == 0 ? Errno.EIO : failure.errno(), failure.message());
            return;
        }
        if (closed) {
            finish(request, Errno.ESHUTDOWN, "export " + name() + " is shutting down");
            return;
        }
        if (kind == FailureKind.RETRY_SAME_PATH) {
            String why = exhausted(request, now);
            if (why != null) {
                giveUp(request, why + "; last error on path " + p.id() + ": " + failure.message());
                return;
            }
            retryOnSamePath(request, p);
            return;
        }
        String why = exhausted(request, now);
        if (why != null) {
            giveUp(request, why + "; last error on path " + p.id() + ": " + failure.message());
            return;
        }
        requeues.increment();
        observer.requeued(this, p);
        if (op.modifiesData()) {
            fence.hold(request, p, a.session);
        } else {
            dispatch(request, p);
        }
    }

    /** Why a request may not try again, or null. */
    private String exhausted(BlockRequest request, long now) {
        if (request.attempts() > config.maxRetries()) {
            return "gave up after " + request.attempts() + " attempts";
        }
        if (deadlines && now - request.deadlineNanos() >= 0) {
            return "no-path-timeout of " + format(noPathTimeoutNanos) + " expired";
        }
        return null;
    }

    private void retryOnSamePath(BlockRequest request, Path p) {
        waiting.add(request);
        schedule(() -> {
            if (!waiting.remove(request)) {
                return;
            }
            if (closed) {
                finish(request, Errno.ESHUTDOWN, "export " + name() + " is shutting down");
                return;
            }
            PathSession s = p.session();
            if (s != null && p.selectable()) {
                send(request, p, s);
            } else {
                dispatch(request, null);
            }
        }, nanos(config.retryDelay()));
    }

    /** The fence has passed for an in-doubt write: send it again, preferably elsewhere. */
    void resumeFenced(BlockRequest request, Path failedPath) {
        if (closed) {
            finish(request, Errno.ESHUTDOWN, "export " + name() + " is shutting down");
            return;
        }
        if (deadlines && System.nanoTime() - request.deadlineNanos() >= 0) {
            giveUp(request, "in-doubt write not retried: no-path-timeout of " + format(noPathTimeoutNanos)
                    + " expired while it was fenced");
            return;
        }
        dispatch(request, failedPath);
    }

    // ---------------------------------------------------------------- flush

    /**
     * A client FLUSH covers every write it saw completed, whichever path carried it, so it goes (in parallel) to every
     * live path that completed writes since its last flush. If such a path is not live, every live path is flushed
     * instead: all paths reach one shared disk, so a flush through any of them reaches the storage those writes went
     * to, as far as anything still can. With no unflushed writes anywhere, one path is flushed (cheap, and safe).
     */
    private void flush(BlockRequest request) {
        Path[] snapshot = paths;
        int dirtyLive = 0;
        int dirtyElsewhere = 0;
        for (Path p : snapshot) {
            if (p.hasUnflushedWrites()) {
                if (flushable(p)) {
                    dirtyLive++;
                } else {
                    dirtyElsewhere++;
                }
            }
        }
        if (dirtyLive == 0 && dirtyElsewhere == 0) {
            dispatch(request, null);
            return;
        }
        Path[] targets;
        Path[] covered = NO_PATHS;
        long[] coveredMarks = new long[0];
        if (dirtyElsewhere == 0) {
            targets = new Path[dirtyLive];
            int n = 0;
            for (Path p : snapshot) {
                if (n < targets.length && p.hasUnflushedWrites() && flushable(p)) {
                    targets[n++] = p;
                }
            }
            targets = n == targets.length ? targets : Arrays.copyOf(targets, n);
        } else {
            List<Path> live = new ArrayList<>();
            List<Path> elsewhere = new ArrayList<>();
            for (Path p : snapshot) {
                if (flushable(p) && (p.selectable() || p.hasUnflushedWrites())) {
                    live.add(p);
                } else if (p.hasUnflushedWrites()) {
                    elsewhere.add(p);
                }
            }
            targets = live.toArray(NO_PATHS);
            covered = elsewhere.toArray(NO_PATHS);
            coveredMarks = new long[covered.length];
            for (int i = 0; i < covered.length; i++) {
                coveredMarks[i] = covered[i].modificationMark();
            }
        }
        if (targets.length == 0) {
            dispatch(request, null); // nothing live: wait for a path like any request
            return;
        }
        FlushFanout fanout = new FlushFanout(request, targets.length, covered, coveredMarks);
        for (Path t : targets) {
            BlockRequest leg = fanout.leg();
            PathSession s = t.session();
            if (s != null) {
                send(leg, t, s);
            } else {
                dispatch(leg, null);
            }
        }
    }

    private static boolean flushable(Path p) {
        return p.state() == PathState.LIVE && p.session() != null;
    }

    // ---------------------------------------------------------------- no usable path

    private void noPath(BlockRequest request) {
        if (config.queueIfNoPath() || mayComeBack()) {
            hold(request);
        } else {
            giveUp(request, "no usable path (" + pathSummary() + ")");
        }
    }

    private void hold(BlockRequest request) {
        if (deadlines && System.nanoTime() - request.deadlineNanos() >= 0) {
            giveUp(request, "no usable path within the no-path-timeout of " + format(noPathTimeoutNanos) + " ("
                    + pathSummary() + ")");
            return;
        }
        boolean first = holdQueue.size() == 0;
        holdQueue.hold(request, deadlines);
        observer.held(this);
        if (first) {
            LOG.info("export {}: no usable path; holding I/O ({}) ({})", name(),
                    deadlines ? "up to " + format(noPathTimeoutNanos) : "queue-if-no-path", pathSummary());
        }
        // a path may have come back, or the last hope gone, between the selection and now
        if (closed) {
            holdQueue.failAll(Errno.ESHUTDOWN, "export " + name() + " is shutting down");
        } else if (anySelectable()) {
            releaseHeld(null);
        } else {
            reevaluateHeld();
        }
    }

    void heldExpired(BlockRequest request) {
        giveUp(request, "no usable path within the no-path-timeout of " + format(noPathTimeoutNanos) + " ("
                + pathSummary() + ")");
    }

    void resubmitHeld(BlockRequest request) {
        dispatch(request, null);
    }

    private void releaseHeld(Path cause) {
        if (holdQueue.size() == 0) {
            return;
        }
        int n = holdQueue.releaseAll();
        if (n > 0 && cause != null) {
            LOG.info("export {}: path {} usable; resubmitted {} held requests", name(), cause.id(), n);
        }
    }

    /** Fails held requests when no path can come back any more (and the operator did not ask to queue forever). */
    private void reevaluateHeld() {
        if (holdQueue.size() == 0 || config.queueIfNoPath() || anySelectable() || mayComeBack()) {
            return;
        }
        String why = "no usable path, and none can come back (" + pathSummary() + ")";
        int n = holdQueue.failAll(Errno.EIO, "export " + name() + ": " + why);
        if (n > 0) {
            LOG.warn("export {}: failed {} held requests with EIO: {}", name(), n, why);
        }
    }

    private boolean anySelectable() {
        for (Path p : paths) {
            if (p.selectable() && p.session() != null) {
                return true;
            }
        }
        return false;
    }

    /** Whether some path may become usable without the operator: connecting, reconnecting, or in removal delay. */
    private boolean mayComeBack() {
        if (removalDelayActive && System.nanoTime() - removalDeadline < 0) {
            return true;
        }
        for (Path p : paths) {
            if (p.removing()) {
                continue;
            }
            PathState s = p.state();
            if (s == PathState.CONNECTING || s == PathState.FAILED || (s == PathState.LIVE && p.awaitingReinstate())) {
                return true;
            }
        }
        return false;
    }

    private String pathSummary() {
        Path[] snapshot = paths;
        if (snapshot.length == 0) {
            return removalDelayActive ? "no paths; within removal delay" : "no paths";
        }
        StringBuilder sb = new StringBuilder();
        for (Path p : snapshot) {
            if (sb.length() > 0) {
                sb.append("; ");
            }
            sb.append(p.id()).append(' ').append(p.state().label());
            if (p.awaitingReinstate()) {
                sb.append(" awaiting reinstate");
            } else if (p.state() == PathState.LIVE && !p.accessState().carriesIo()) {
                sb.append(' ').append(p.accessState().label());
            }
            String err = p.lastError();
            if (err != null && p.state() != PathState.LIVE) {
                sb.append(": ").append(err);
            }
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------- completing requests

    /** Fails a request towards its client (exactly once per request). */
    void finish(BlockRequest request, int errno, String message) {
        request.releasePayload();
        request.sink().failed(request, errno, message);
    }

    /** A request that ran out of paths, retries or time: EIO, and a (rate-limited) warning. */
    private void giveUp(BlockRequest request, String why) {
        String message = "export " + name() + ": " + request.op() + " failed: " + why;
        long now = System.nanoTime();
        long last = lastClientErrorLog.get();
        if (now - last >= TimeUnit.SECONDS.toNanos(1) && lastClientErrorLog.compareAndSet(last, now)) {
            long suppressed = suppressedClientErrors.sumThenReset();
            LOG.warn("{} (EIO to the client{})", message,
                    suppressed > 0 ? "; " + suppressed + " similar errors in the last second not logged" : "");
        } else {
            suppressedClientErrors.increment();
        }
        finish(request, Errno.EIO, message);
    }

    ScheduledFuture<?> schedule(Runnable task, long delayNanos) {
        try {
            return executors.next().schedule(task, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            task.run(); // executors are shutting down: the task finds the export closed and fails fast
            return null;
        }
    }

    // ---------------------------------------------------------------- paths and policy

    public List<Path> paths() {
        return List.of(paths);
    }

    /** The path with this id, or null. */
    public Path path(String id) {
        for (Path p : paths) {
            if (p.id().equals(id)) {
                return p;
            }
        }
        return null;
    }

    private Path requirePath(String id) {
        Path p = path(id);
        if (p == null) {
            throw new IllegalArgumentException("export " + name() + " has no path '" + id + "'");
        }
        return p;
    }

    public String ioPolicy() {
        return policy.name();
    }

    /** Switches the iopolicy at run time; {@link IllegalArgumentException} for an unknown name. */
    public void ioPolicy(String name) {
        IoPolicy next = IoPolicies.create(name);
        String before = policy.name();
        policy = next;
        LOG.info("export {}: iopolicy {} -> {}", name(), before, next.name());
    }

    /** Adds a path; it starts connecting at once if the export has started. */
    public Path addPath(PathConfig pathConfig, BackendDriver driver) {
        Path p;
        boolean start;
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("export " + name() + " is closed");
            }
            String id = pathConfig.id();
            if (id == null || id.isBlank()) {
                do {
                    id = "p" + nextPathNumber++;
                } while (memberById(id) != null);
            } else if (memberById(id) != null) {
                throw new IllegalArgumentException("export " + name() + " already has a path '" + id + "'");
            }
            p = new Path(this, id, pathConfig, driver, host, executors.next());
            members.add(p);
            removalDelayActive = false;
            publishPaths();
            start = started;
        }
        LOG.info("export {}: path {} added ({}, {}{})", name(), p.id(), p.uri(), p.accessState().label(),
                p.distance() != 0 ? ", distance " + p.distance() : "");
        observer.pathAdded(this, p);
        if (start) {
            p.start();
        }
        return p;
    }

    private Path memberById(String id) {
        for (Path m : members) {
            if (m.id().equals(id)) {
                return m;
            }
        }
        return null;
    }

    /** Removes a path after draining it; {@link IllegalArgumentException} if unknown. */
    public CompletableFuture<Void> removePath(String id) {
        Path p = requirePath(id);
        LOG.info("export {}: removing path {} ({} requests in flight)", name(), id, p.inFlight());
        return p.remove();
    }

    /** Operator fail: the path stops carrying I/O (in-flight requests finish or fail over) until reinstated. */
    public void failPath(String id) {
        requirePath(id).disable();
    }

    /** Operator reinstate: the path reconnects (if needed) and carries I/O again. */
    public void reinstatePath(String id) {
        requirePath(id).reinstate();
    }

    public long failovers() {
        return failovers.sum();
    }

    public long requeues() {
        return requeues.sum();
    }

    /** Requests currently parked waiting for a usable path. */
    public int held() {
        return holdQueue.size();
    }

    /** In-doubt writes currently waiting for their path's session to close plus the fence delay. */
    public int fenced() {
        return fence.size();
    }

    /** Starts connecting every path; completes when the export is ready (or exceptionally if it never becomes so). */
    public CompletableFuture<Void> start() {
        Path[] toStart;
        synchronized (lock) {
            if (closed) {
                return CompletableFuture.failedFuture(new IllegalStateException("export " + name() + " is closed"));
            }
            if (started) {
                return readyFuture.copy();
            }
            started = true;
            toStart = members.toArray(NO_PATHS);
        }
        LOG.info("export {}: starting with {} path(s), iopolicy {}", name(), toStart.length, ioPolicy());
        for (Path p : toStart) {
            p.start();
        }
        return readyFuture.copy();
    }

    /** Fails held requests with ESHUTDOWN, closes every path. */
    public CompletableFuture<Void> close() {
        Path[] toClose;
        synchronized (lock) {
            if (closing != null) {
                return closing;
            }
            closed = true;
            toClose = members.toArray(NO_PATHS);
            closing = new CompletableFuture<>();
        }
        String why = "export " + name() + " is shutting down";
        int failed = holdQueue.failAll(Errno.ESHUTDOWN, why);
        for (BlockRequest r : waiting) {
            if (waiting.remove(r)) {
                finish(r, Errno.ESHUTDOWN, why);
                failed++;
            }
        }
        readyFuture.completeExceptionally(new IllegalStateException("export " + name() + " closed before it was ready"));
        CompletableFuture<?>[] sessions = new CompletableFuture<?>[toClose.length];
        for (int i = 0; i < toClose.length; i++) {
            sessions[i] = toClose[i].shutdown("export closed");
        }
        LOG.info("export {}: closing ({} waiting requests failed with ESHUTDOWN)", name(), failed);
        CompletableFuture<Void> result = closing;
        CompletableFuture.allOf(sessions).whenComplete((v, e) -> result.complete(null));
        return result;
    }

    // ---------------------------------------------------------------- path events, admission, readiness

    /** Publishes a new snapshot; a new array also tells per-thread policy caches that something changed. */
    private void publishPaths() {
        List<Path> live = new ArrayList<>(members.size());
        for (Path m : members) {
            if (m.state() != PathState.REMOVED) {
                live.add(m);
            }
        }
        paths = live.toArray(NO_PATHS);
    }

    private final class Host implements PathHost {

        @Override
        public String admit(Path path, BackendInfo info) {
            synchronized (lock) {
                long expectedSize = ready ? size : firstSize;
                if (expectedSize >= 0 && info.size() != expectedSize) {
                    return "size mismatch: path reports " + info.size() + " bytes, the export's size is "
                            + expectedSize + " bytes (a different disk?)";
                }
                String expectedId = config.expectedIdentity() != null ? config.expectedIdentity() : identity;
                if (expectedId != null && !expectedId.equals(info.identity())) {
                    return "identity mismatch: path reports "
                            + (info.identity() == null ? "no identity" : "'" + info.identity() + "'")
                            + ", expected '" + expectedId + "'"
                            + (config.expectedIdentity() != null ? " (configured)" : " (first path's)");
                }
                if (ready) {
                    String lacking = lacking(info);
                    if (lacking != null) {
                        return lacking;
                    }
                }
                if (firstSize < 0) {
                    firstSize = info.size();
                }
                if (!identityFixed) {
                    identityFixed = true;
                    if (config.expectedIdentity() == null) {
                        identity = info.identity();
                    }
                }
                admitted.put(path, info);
                return null;
            }
        }

        /** What a late path lacks of what the export already advertises, or null. */
        private String lacking(BackendInfo info) {
            int pinned = capabilities & ~(UNITED_CAPABILITIES | Capability.MULTI_CONN);
            int missing = pinned & ~info.capabilities();
            if (missing != 0) {
                return "lacks capabilities the export already advertises: " + Capability.describe(missing)
                        + " (path has: " + Capability.describe(info.capabilities()) + ")";
            }
            if (!Capability.has(capabilities, Capability.READ_ONLY) && info.has(Capability.READ_ONLY)) {
                return "read-only, but the export is advertised writable";
            }
            if (info.minBlockSize() > minBlockSize) {
                return "minimum block size " + info.minBlockSize() + " is larger than the advertised "
                        + minBlockSize;
            }
            if (info.maxPayload() < maxPayload) {
                return "maximum payload " + info.maxPayload() + " is smaller than the advertised " + maxPayload;
            }
            return null;
        }

        @Override
        public void pathEvent(PathEvent event) {
            Path p = event.path();
            boolean becameReady;
            boolean gone = event.to() == PathState.REMOVED && event.isStateChange();
            synchronized (lock) {
                if (gone) {
                    members.remove(p);
                    admitted.remove(p);
                    if (members.isEmpty() && !closed) {
                        removalDelayActive = true;
                        removalDeadline = System.nanoTime() + nanos(config.removalDelay());
                    }
                }
                publishPaths();
                becameReady = checkReady();
            }
            log(event);
            if (event.isStateChange()) {
                observer.pathStateChanged(Export.this, p, event.from(), event.to(), event.reason());
            }
            if (event.isFailover()) {
                failovers.increment();
                observer.failover(Export.this, p, event.reason());
            }
            if (gone) {
                observer.pathRemoved(Export.this, p);
                if (removalDelayActive && paths.length == 0) {
                    LOG.warn("export {}: last path removed; holding I/O for the removal delay of {}", name(),
                            format(nanos(config.removalDelay())));
                    schedule(Export.this::removalDelayEnded, nanos(config.removalDelay()));
                }
            }
            if (becameReady) {
                announceReady();
            }
            if (p.selectable()) {
                releaseHeld(p);
            } else {
                reevaluateHeld();
            }
        }

        private void log(PathEvent e) {
            String ex = name();
            Path p = e.path();
            switch (e.to()) {
                case LIVE:
                    if (e.from() != PathState.LIVE) {
                        BackendInfo i = p.info();
                        LOG.info("export {}: path {} live ({}): {}; {} bytes, {}", ex, p.id(), p.uri(), e.reason(),
                                i == null ? 0 : i.size(), i == null ? "" : Capability.describe(i.capabilities()));
                    } else {
                        LOG.info("export {}: path {}: {}", ex, p.id(), e.reason());
                    }
                    break;
                case FAILED:
                    if (e.isFailover()) {
                        LOG.warn("export {}: path {} failed: {}; failing over {} requests", ex, p.id(), e.reason(),
                                e.inFlight());
                    } else if (e.repeat()) {
                        LOG.debug("export {}: path {} still failing: {}", ex, p.id(), e.reason());
                    } else {
                        LOG.warn("export {}: path {} ({}) down: {}", ex, p.id(), p.uri(), e.reason());
                    }
                    break;
                case REFUSED:
                    if (e.repeat()) {
                        LOG.debug("export {}: path {} still refused: {}", ex, p.id(), e.reason());
                    } else {
                        LOG.error("export {}: path {} ({}) REFUSED: {}", ex, p.id(), p.uri(), e.reason());
                    }
                    break;
                case CONNECTING:
                    if (e.from() == PathState.FAILED || e.from() == PathState.REFUSED) {
                        LOG.debug("export {}: path {} {}", ex, p.id(), e.reason());
                    } else {
                        LOG.info("export {}: path {} {} ({})", ex, p.id(), e.reason(), p.uri());
                    }
                    break;
                case DISABLED:
                    LOG.warn("export {}: path {} {}; {} requests in flight drain before its session closes", ex,
                            p.id(), e.reason(), e.inFlight());
                    break;
                case REMOVED:
                    LOG.info("export {}: path {} removed ({})", ex, p.id(), e.reason());
                    break;
                default:
                    break;
            }
        }
    }

    /**
     * Pins geometry and capabilities once the paths that connect quickly have: when every path has tried once, or a
     * short grace after the first one was admitted. Lock held.
     *
     * @return true if the export became ready now
     */
    private boolean checkReady() {
        if (ready || !started || admitted.isEmpty() || closed) {
            return false;
        }
        boolean allTried = true;
        for (Path m : members) {
            PathState s = m.state();
            if (!m.attempted() && s != PathState.DISABLED && s != PathState.REMOVED && !m.removing()) {
                allTried = false;
                break;
            }
        }
        if (allTried) {
            pin();
            return true;
        }
        if (!graceScheduled) {
            graceScheduled = true;
            schedule(this::graceEnded, READY_GRACE_NANOS);
        }
        return false;
    }

    private void graceEnded() {
        boolean becameReady = false;
        synchronized (lock) {
            if (!ready && !closed && !admitted.isEmpty()) {
                pin();
                becameReady = true;
            }
        }
        if (becameReady) {
            announceReady();
        }
    }

    /**
     * The advertised capabilities: the intersection of what the admitted paths can do (restrictions such as
     * read-only united), the strictest block sizes. Lock held.
     *
     * <p>MULTI_CONN is advertised exactly when FLUSH is. A client may write through one connection and flush through
     * another; all its connections reach this one export, whose FLUSH goes to every path that completed writes since
     * its last flush (see {@link #flush}), and a backend session's FLUSH covers every write made through that session.
     * So a FLUSH covers all writes completed before it, whatever the connection, which is what MULTI_CONN promises.
     */
    private void pin() {
        int and = ~0;
        int or = 0;
        int min = 1;
        int preferred = 1;
        int max = Integer.MAX_VALUE;
        String firstDescription = null;
        long pinnedSize = firstSize;
        for (Path m : members) {
            BackendInfo i = admitted.get(m);
            if (i == null) {
                continue;
            }
            and &= i.capabilities();
            or |= i.capabilities();
            min = Math.max(min, Math.max(1, i.minBlockSize()));
            preferred = Math.max(preferred, i.preferredBlockSize());
            max = Math.min(max, i.maxPayload() > 0 ? i.maxPayload() : Integer.MAX_VALUE);
            if (firstDescription == null) {
                firstDescription = i.description();
            }
        }
        int caps = (and & ~(UNITED_CAPABILITIES | Capability.MULTI_CONN)) | (or & UNITED_CAPABILITIES);
        if (Capability.has(caps, Capability.FLUSH)) {
            caps |= Capability.MULTI_CONN;
        }
        max = Math.max(max, min);
        preferred = Math.min(Math.max(preferred, min), max);
        size = pinnedSize;
        capabilities = caps;
        minBlockSize = min;
        preferredBlockSize = preferred;
        maxPayload = max;
        if (config.description() == null) {
            description = firstDescription;
        }
        ready = true;
    }

    private void announceReady() {
        LOG.info("export {}: ready: {} bytes, {}, block sizes {}/{}/{}, {} of {} paths live{}", name(), size,
                Capability.describe(capabilities), minBlockSize, preferredBlockSize, maxPayload, liveCount(),
                paths.length, identity != null ? ", identity " + identity : "");
        readyFuture.complete(null);
    }

    private int liveCount() {
        int n = 0;
        for (Path p : paths) {
            if (p.state() == PathState.LIVE) {
                n++;
            }
        }
        return n;
    }

    private void removalDelayEnded() {
        synchronized (lock) {
            if (!members.isEmpty() || !removalDelayActive || System.nanoTime() - removalDeadline < 0) {
                return; // a path came, or a later removal started a new delay with its own timer
            }
            removalDelayActive = false;
        }
        LOG.warn("export {}: removal delay ended without a new path", name());
        reevaluateHeld();
    }

    // ---------------------------------------------------------------- helpers

    private static long nanos(Duration d) {
        return d == null ? 0 : d.toNanos();
    }

    private static String format(long nanos) {
        long ms = TimeUnit.NANOSECONDS.toMillis(Math.max(0, nanos));
        return ms < 10_000 ? ms + " ms" : (ms / 1000) + " s";
    }

    @Override
    public String toString() {
        return "export " + name();
    }
}
