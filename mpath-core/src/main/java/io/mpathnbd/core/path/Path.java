package io.mpathnbd.core.path;

import io.mpathnbd.core.backend.BackendDriver;
import io.mpathnbd.core.backend.BackendException;
import io.mpathnbd.core.backend.BackendInfo;
import io.mpathnbd.core.backend.BackendSession;
import io.mpathnbd.core.export.Export;
import io.mpathnbd.core.export.ExportConfig;
import io.mpathnbd.core.export.FailbackMode;
import io.mpathnbd.core.request.BlockOp;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One path of an export: a backend driver, its current session, state machine, access state and counters.
 *
 * <p>The path owns its state machine (CONNECTING, LIVE, FAILED, DISABLED, REFUSED, REMOVED): it connects, checks
 * every new session with its export ({@link PathHost#admit}), reconnects with exponential backoff and jitter, probes
 * idle sessions and watches for lost ones. Transitions happen under the path's lock, which the hot path never takes:
 * selection reads volatile fields only, and accounting uses atomics. Whatever a transition triggers outside the path
 * (export notifications, closing sessions, connecting) runs after the lock is released, in order.
 *
 * <p>Created by {@link Export#addPath}; the constructor and the request-accounting methods are public only because
 * the export lives in another package.
 */
public final class Path {
    private static final Logger LOG = LoggerFactory.getLogger(Path.class);
    private static final long DRAIN_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    private static final Duration DEFAULT_DRAIN = Duration.ofSeconds(5);

    private final Export export;
    private final String id;
    private final PathConfig config;
    private final BackendDriver driver;
    private final PathHost host;
    private final EventExecutor executor;
    private final ExportConfig timing;

    // hot-path accounting: atomics only
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong inFlightBytes = new AtomicLong();
    private final LongAdder requests = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder bytesRead = new LongAdder();
    private final LongAdder bytesWritten = new LongAdder();
    /** Data-modifying requests completed on this path (not FUA); compared with {@link #flushedMark}. */
    private final LongAdder modifications = new LongAdder();
    private final AtomicLong flushedMark = new AtomicLong();
    private volatile long lastCompletionNanos = System.nanoTime();
    private volatile double relativeThroughput = 1.0;

    // state: written under the lock, read without it
    private volatile PathState state = PathState.CONNECTING;
    private volatile AccessState accessState;
    private volatile boolean selectable;
    private volatile boolean awaitingReinstate;
    private volatile boolean attempted;
    private volatile PathSession session;
    private volatile BackendInfo info;
    private volatile String lastError;

    // guarded by this
    private boolean started;
    private volatile boolean retiring;
    private boolean failedSinceLive;
    private int generation;
    private int backoffStep;
    private String lastFailure;
    private PathSession draining;
    private ScheduledFuture<?> reconnectTimer;
    private ScheduledFuture<?> probeTimer;
    private CompletableFuture<Void> removal;
    private final ArrayDeque<Runnable> deferred = new ArrayDeque<>();
    private boolean runningDeferred;

    /**
     * @param executor where this path's timers (reconnect, probe, drain) run
     */
    public Path(Export export, String id, PathConfig config, BackendDriver driver, PathHost host,
            EventExecutor executor) {
        this.export = export;
        this.id = id;
        this.config = config;
        this.driver = driver;
        this.host = host;
        this.executor = executor;
        this.timing = export.config();
        this.accessState = config.accessState() == null ? AccessState.OPTIMIZED : config.accessState();
    }

    // ---------------------------------------------------------------- public read-only view

    /** Unique within the export (p0, p1, ... unless configured). */
    public String id() {
        return id;
    }

    /** The driver's display URI (secrets removed). */
    public String uri() {
        return driver.displayUri();
    }

    public Export export() {
        return export;
    }

    public PathConfig config() {
        return config;
    }

    public PathState state() {
        return state;
    }

    public AccessState accessState() {
        return accessState;
    }

    /** Configured numa distance (lower is nearer). */
    public int distance() {
        return config.distance();
    }

    /** Requests currently sent on this path and not yet answered. */
    public int inFlight() {
        return inFlight.get();
    }

    /** Payload bytes of those requests (service-time). */
    public long inFlightBytes() {
        return inFlightBytes.get();
    }

    public long requests() {
        return requests.sum();
    }

    public long errors() {
        return errors.sum();
    }

    public long bytesRead() {
        return bytesRead.sum();
    }

    public long bytesWritten() {
        return bytesWritten.sum();
    }

    /** Last failure reason (for status output), or null. */
    public String lastError() {
        return lastError;
    }

    /** The info of the current or last session, or null if it never connected. */
    public BackendInfo info() {
        return info;
    }

    /**
     * True while the path is connected but kept out of selection because failback is manual and it came back after a
     * failure: the operator's reinstate puts it back into service.
     */
    public boolean awaitingReinstate() {
        return awaitingReinstate;
    }

    /** True once the first connect attempt has finished, successfully or not. */
    public boolean attempted() {
        return attempted;
    }

    /** True while the path is being removed (no longer selected, draining) or once removed. */
    public boolean removing() {
        return retiring;
    }

    /** True when an iopolicy may choose this path: live, checked, an access state that carries I/O, in service. */
    public boolean selectable() {
        return selectable;
    }

    /** Relative throughput for the service-time policy (1 unless set). */
    public double relativeThroughput() {
        return relativeThroughput;
    }

    public void relativeThroughput(double value) {
        if (!(value > 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException("relative throughput must be a positive number, not " + value);
        }
        relativeThroughput = value;
    }

    /** The session requests go to, or null when the path is not live. */
    public PathSession session() {
        return session;
    }

    // ---------------------------------------------------------------- hot-path accounting (used by the export)

    public void beginRequest(int bytes) {
        inFlight.incrementAndGet();
        if (bytes != 0) {
            inFlightBytes.addAndGet(bytes);
        }
    }

    public void endRequest(BlockOp op, int bytes, boolean failed, long nowNanos) {
        inFlight.decrementAndGet();
        if (bytes != 0) {
            inFlightBytes.addAndGet(-bytes);
        }
        requests.increment();
        if (failed) {
            errors.increment();
        } else if (op == BlockOp.READ) {
            bytesRead.add(bytes);
        } else if (op == BlockOp.WRITE) {
            bytesWritten.add(bytes);
        }
        lastCompletionNanos = nowNanos;
    }

    /** Remembers why a request failed on this path (status output). */
    public void noteError(String message) {
        lastError = message;
    }

    /** A data-modifying request completed here: the next client FLUSH must reach this path. */
    public void noteModification() {
        modifications.increment();
    }

    /** Snapshot to take before sending a FLUSH; pass it to {@link #flushedUpTo} when that FLUSH succeeds. */
    public long modificationMark() {
        return modifications.sum();
    }

    public void flushedUpTo(long mark) {
        flushedMark.accumulateAndGet(mark, Math::max);
    }

    /** True if a data-modifying request completed here after the start of the last successful FLUSH. */
    public boolean hasUnflushedWrites() {
        return modifications.sum() > flushedMark.get();
    }

    // ---------------------------------------------------------------- commands

    /** Starts connecting (once); the export calls it when it starts, or at once for a path added later. */
    public void start() {
        synchronized (this) {
            if (!started && state != PathState.REMOVED && !retiring) {
                started = true;
                if (state != PathState.DISABLED) {
                    beginConnect("connecting");
                }
            }
        }
        runDeferred();
    }

    /**
     * Fails the path because a request or probe on {@code failed} met a path error. Only the first report for the
     * current session changes anything.
     *
     * @return true if this call took the path from LIVE to FAILED
     */
    public boolean fail(PathSession failed, String reason) {
        boolean transitioned = false;
        synchronized (this) {
            if (session == failed && state == PathState.LIVE) {
                failLive(reason);
                transitioned = true;
            }
        }
        if (!transitioned) {
            // an old or draining session that errs is of no further use
            failed.close();
        }
        runDeferred();
        return transitioned;
    }

    /** Operator fail: the path stops carrying I/O; in-flight requests drain (bounded), then the session closes. */
    public void disable() {
        synchronized (this) {
            if (state != PathState.REMOVED && state != PathState.DISABLED && !retiring) {
                generation++;
                cancelTimers();
                awaitingReinstate = false;
                PathSession ps = session;
                session = null;
                lastError = "disabled by operator";
                change(PathState.DISABLED, "disabled by operator", false);
                if (ps != null) {
                    draining = ps;
                    later(() -> drainThenClose(ps));
                }
            }
        }
        runDeferred();
    }

    /** Operator reinstate: reconnects a disabled, failed or refused path, or ends a manual-failback wait. */
    public void reinstate() {
        synchronized (this) {
            if (!retiring) {
                failedSinceLive = false;
                switch (state) {
                    case DISABLED:
                    case FAILED:
                    case REFUSED:
                        backoffStep = 0;
                        if (started) {
                            beginConnect("reinstated by operator");
                        } else {
                            change(PathState.CONNECTING, "reinstated by operator; waiting for the export to start",
                                    false);
                        }
                        break;
                    case LIVE:
                        if (awaitingReinstate) {
                            awaitingReinstate = false;
                            lastError = null;
                            change(PathState.LIVE, "reinstated by operator", false);
                        }
                        break;
                    default:
                        break;
                }
            }
        }
        runDeferred();
    }

    /** Changes the access state (operator or, later, ALUA). */
    public void accessState(AccessState newState) {
        synchronized (this) {
            if (newState != accessState) {
                accessState = newState;
                change(state, "access state " + newState.label(), false);
            }
        }
        runDeferred();
    }

    /**
     * Takes the path out of service for good: no longer selected, in-flight requests finish (bounded by the request
     * timeout), the session closes, the state becomes REMOVED. Completes after the export has been told.
     */
    public CompletableFuture<Void> remove() {
        CompletableFuture<Void> result;
        synchronized (this) {
            if (removal != null) {
                return removal;
            }
            result = new CompletableFuture<>();
            removal = result;
            retiring = true;
            generation++;
            cancelTimers();
            awaitingReinstate = false;
            PathSession ps = session != null ? session : draining;
            session = null;
            draining = ps;
            change(state, "removing", false);
            if (ps != null) {
                later(() -> drainThenClose(ps).whenComplete((v, e) -> finishRemoval("by operator")));
            } else {
                later(() -> finishRemoval("by operator"));
            }
        }
        runDeferred();
        return result;
    }

    /** Export shutdown: closes at once (no drain), state REMOVED; completes when the session is closed. */
    public CompletableFuture<Void> shutdown(String reason) {
        CompletableFuture<Void> closed = new CompletableFuture<>();
        synchronized (this) {
            retiring = true;
            generation++;
            cancelTimers();
            awaitingReinstate = false;
            PathSession ps = session;
            PathSession dr = draining;
            session = null;
            draining = null;
            if (state != PathState.REMOVED) {
                change(PathState.REMOVED, reason, false);
            }
            // closing may fail outstanding requests synchronously: never under the lock
            later(() -> {
                CompletableFuture<Void> a = ps == null ? CompletableFuture.completedFuture(null) : ps.close();
                CompletableFuture<Void> b = dr == null ? CompletableFuture.completedFuture(null) : dr.close();
                CompletableFuture.allOf(a, b).whenComplete((v, e) -> {
                    shutdownDriver();
                    closed.complete(null);
                });
            });
            CompletableFuture<Void> pendingRemoval = removal;
            if (pendingRemoval != null) {
                later(() -> pendingRemoval.complete(null));
            }
        }
        runDeferred();
        return closed;
    }

    // ---------------------------------------------------------------- connecting

    private void beginConnect(String reason) {
        cancelTimers();
        int gen = ++generation;
        change(PathState.CONNECTING, reason, false);
        later(() -> launchConnect(gen));
    }

    private void launchConnect(int gen) {
        CompletableFuture<BackendSession> f;
        try {
            f = driver.connect();
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        Duration guard = connectGuard();
        ScheduledFuture<?> guardTimer = schedule(() -> connectTimedOut(gen, guard), guard.toNanos());
        f.whenComplete((s, e) -> {
            if (guardTimer != null) {
                guardTimer.cancel(false);
            }
            connected(gen, s, e);
        });
    }

    /** A safety net in case a driver's own connect timeout never fires. */
    private Duration connectGuard() {
        Duration connect = config.driverOptions() == null ? null : config.driverOptions().connectTimeout();
        if (connect == null || connect.isZero() || connect.isNegative()) {
            connect = Duration.ofSeconds(5);
        }
        return connect.multipliedBy(2).plusSeconds(1);
    }

    private void connectTimedOut(int gen, Duration guard) {
        synchronized (this) {
            if (gen == generation && state == PathState.CONNECTING) {
                generation++; // the late result, if any, is closed when it arrives
                attempted = true;
                failConnect("connect did not complete within " + format(guard.toNanos()));
            }
        }
        runDeferred();
    }

    private void connected(int gen, BackendSession s, Throwable error) {
        synchronized (this) {
            if (gen != generation || state != PathState.CONNECTING || retiring) {
                if (s != null) {
                    later(() -> closeQuietly(s));
                }
            } else {
                attempted = true;
                if (error != null) {
                    Throwable cause = unwrap(error);
                    if (cause instanceof BackendException && ((BackendException) cause).isConfigurationError()) {
                        refuse("the target refuses us: " + describe(cause));
                    } else {
                        failConnect("connect failed: " + describe(cause));
                    }
                } else {
                    admitSession(s);
                }
            }
        }
        runDeferred();
    }

    private void admitSession(BackendSession s) {
        BackendInfo sessionInfo;
        String refusal;
        try {
            sessionInfo = s.info();
            refusal = sessionInfo == null ? "the session reports no disk information" : host.admit(this, sessionInfo);
        } catch (RuntimeException e) {
            sessionInfo = null;
            refusal = "checking the session failed: " + e;
        }
        if (sessionInfo != null) {
            info = sessionInfo;
        }
        if (refusal != null) {
            later(() -> closeQuietly(s));
            refuse(refusal);
            return;
        }
        PathSession ps = new PathSession(this, s);
        session = ps;
        backoffStep = 0;
        lastFailure = null;
        lastCompletionNanos = System.nanoTime();
        boolean hold = failedSinceLive && timing.failback() == FailbackMode.MANUAL;
        awaitingReinstate = hold;
        String reason;
        if (hold) {
            lastError = "awaiting operator reinstate (failback: manual); last failure: " + lastError;
            reason = "connected; awaiting operator reinstate (failback: manual)";
        } else {
            lastError = null;
            reason = "connected";
        }
        change(PathState.LIVE, reason, false);
        later(() -> watch(ps));
    }

    private void watch(PathSession ps) {
        ps.backend().closeFuture().whenComplete((v, e) -> sessionLost(ps));
        long interval = nanos(timing.probeInterval());
        if (interval > 0) {
            ScheduledFuture<?> t;
            try {
                t = executor.scheduleAtFixedRate(() -> probeTick(ps, interval), interval, interval,
                        TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                return;
            }
            synchronized (this) {
                if (session == ps) {
                    if (probeTimer != null) {
                        probeTimer.cancel(false);
                    }
                    probeTimer = t;
                    return;
                }
            }
            t.cancel(false);
        }
    }

    private void sessionLost(PathSession ps) {
        synchronized (this) {
            if (session == ps && state == PathState.LIVE) {
                String why = ps.backend().lossReason();
                failLive(why == null ? "session closed" : "session lost: " + why);
            }
        }
        runDeferred();
    }

    private void probeTick(PathSession ps, long interval) {
        if (session != ps) {
            return; // the timer is cancelled by whoever replaced the session
        }
        if (ps.probePending) {
            fail(ps, "health probe did not complete within " + format(interval));
            return;
        }
        if (System.nanoTime() - lastCompletionNanos < interval) {
            return; // requests completed recently: the path is evidently alive
        }
        ps.probePending = true;
        CompletableFuture<Void> f;
        try {
            f = ps.backend().probe();
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        f.whenComplete((v, e) -> {
            ps.probePending = false;
            if (e != null) {
                fail(ps, "health probe failed: " + describe(unwrap(e)));
            }
        });
    }

    // ---------------------------------------------------------------- transitions (lock held)

    private void failLive(String reason) {
        PathSession ps = session;
        session = null;
        generation++;
        cancelTimers();
        awaitingReinstate = false;
        failedSinceLive = true;
        lastError = reason;
        boolean repeat = reason.equals(lastFailure);
        lastFailure = reason;
        change(PathState.FAILED, reason, repeat);
        if (ps != null) {
            later(ps::close);
        }
        scheduleReconnect(nextBackoff());
    }

    private void failConnect(String reason) {
        lastError = reason;
        boolean repeat = reason.equals(lastFailure);
        lastFailure = reason;
        long delay = nextBackoff();
        change(PathState.FAILED, reason + "; retrying in " + format(delay), repeat);
        scheduleReconnect(delay);
    }

    private void refuse(String reason) {
        lastError = "refused: " + reason;
        boolean repeat = reason.equals(lastFailure);
        lastFailure = reason;
        long delay = Math.max(nanos(timing.reconnectMax()), TimeUnit.MILLISECONDS.toNanos(1));
        change(PathState.REFUSED, reason + "; retrying in " + format(delay), repeat);
        scheduleReconnect(delay);
    }

    private void scheduleReconnect(long delayNanos) {
        int gen = generation;
        reconnectTimer = schedule(() -> reconnect(gen), delayNanos);
    }

    private void reconnect(int gen) {
        synchronized (this) {
            if (gen == generation && !retiring && (state == PathState.FAILED || state == PathState.REFUSED)) {
                beginConnect("reconnecting");
            }
        }
        runDeferred();
    }

    /** Exponential from reconnectMin to reconnectMax, with jitter so paths that failed together spread out. */
    private long nextBackoff() {
        long min = Math.max(nanos(timing.reconnectMin()), TimeUnit.MILLISECONDS.toNanos(1));
        long max = Math.max(nanos(timing.reconnectMax()), min);
        int step = backoffStep;
        if (backoffStep < 64) {
            backoffStep++;
        }
        long base = min;
        for (int i = 0; i < step && base < max; i++) {
            base = base > max / 2 ? max : base * 2;
        }
        long half = base / 2;
        return half + ThreadLocalRandom.current().nextLong(base - half + 1);
    }

    private void change(PathState to, String reason, boolean repeat) {
        PathState from = state;
        state = to;
        selectable = to == PathState.LIVE && session != null && !retiring && !awaitingReinstate
                && accessState.carriesIo();
        PathEvent event = new PathEvent(this, from, to, reason, inFlight.get(), repeat);
        later(() -> host.pathEvent(event));
    }

    private void cancelTimers() {
        if (reconnectTimer != null) {
            reconnectTimer.cancel(false);
            reconnectTimer = null;
        }
        if (probeTimer != null) {
            probeTimer.cancel(false);
            probeTimer = null;
        }
    }

    // ---------------------------------------------------------------- retiring a session

    private CompletableFuture<Void> drainThenClose(PathSession ps) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Duration bound = config.driverOptions() == null ? null : config.driverOptions().requestTimeout();
        if (bound == null || bound.isZero() || bound.isNegative()) {
            bound = DEFAULT_DRAIN;
        }
        long deadline = System.nanoTime() + bound.toNanos();
        String boundText = format(bound.toNanos());
        new Runnable() {
            @Override
            public void run() {
                boolean idle = inFlight.get() == 0;
                boolean lost = ps.backend().closeFuture().isDone();
                if (idle || lost || System.nanoTime() - deadline >= 0) {
                    if (!idle && !lost) {
                        LOG.warn("export {}: path {}: closing with {} requests still in flight after {}; they fail over",
                                export.name(), id, inFlight.get(), boundText);
                    }
                    ps.close().whenComplete((v, e) -> {
                        synchronized (Path.this) {
                            if (draining == ps) {
                                draining = null;
                            }
                        }
                        done.complete(null);
                    });
                } else if (schedule(this, DRAIN_POLL_NANOS) == null) {
                    ps.close().whenComplete((v, e) -> done.complete(null));
                }
            }
        }.run();
        return done;
    }

    private void finishRemoval(String reason) {
        CompletableFuture<Void> result;
        synchronized (this) {
            result = removal;
            if (state != PathState.REMOVED) {
                change(PathState.REMOVED, reason, false);
                later(this::shutdownDriver);
            }
            later(() -> result.complete(null));
        }
        runDeferred();
    }

    private void shutdownDriver() {
        try {
            driver.shutdown();
        } catch (RuntimeException e) {
            LOG.warn("export {}: path {}: driver shutdown failed", export.name(), id, e);
        }
    }

    // ---------------------------------------------------------------- plumbing

    /** Queues an action to run once the lock is released (must hold the lock). */
    private void later(Runnable action) {
        deferred.add(action);
    }

    /** Runs queued actions in order, outside the lock; one thread at a time, so events keep their order. */
    private void runDeferred() {
        if (Thread.holdsLock(this)) {
            return; // the outermost caller runs them
        }
        synchronized (this) {
            if (runningDeferred || deferred.isEmpty()) {
                return;
            }
            runningDeferred = true;
        }
        for (;;) {
            Runnable r;
            synchronized (this) {
                r = deferred.poll();
                if (r == null) {
                    runningDeferred = false;
                    return;
                }
            }
            try {
                r.run();
            } catch (RuntimeException e) {
                LOG.error("export {}: path {}: internal error", export.name(), id, e);
            }
        }
    }

    private ScheduledFuture<?> schedule(Runnable task, long delayNanos) {
        try {
            return executor.schedule(() -> {
                task.run();
                runDeferred();
            }, delayNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            return null; // the executor is shutting down: so is the export
        }
    }

    private static void closeQuietly(BackendSession s) {
        try {
            s.close();
        } catch (RuntimeException e) {
            LOG.debug("closing a session failed", e);
        }
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private static String describe(Throwable t) {
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
    }

    private static long nanos(Duration d) {
        return d == null ? 0 : d.toNanos();
    }

    static String format(long nanos) {
        if (nanos < 0) {
            nanos = 0;
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(nanos);
        return ms < 10_000 ? ms + " ms" : (ms / 1000) + " s";
    }

    @Override
    public String toString() {
        return id;
    }
}
