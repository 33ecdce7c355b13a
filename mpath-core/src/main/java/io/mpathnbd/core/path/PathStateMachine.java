package io.mpathnbd.core.path;

import io.mpathnbd.core.backend.AccessState;
import io.mpathnbd.core.backend.AccessStateSource;
import io.mpathnbd.core.backend.BackendDriver;
import io.mpathnbd.core.backend.BackendException;
import io.mpathnbd.core.backend.BackendInfo;
import io.mpathnbd.core.backend.BackendSession;
import io.mpathnbd.core.backend.ControlResult;
import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.time.Durations;
import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A path's connection state machine (CONNECTING, LIVE, FAILED, DISABLED, REFUSED, REMOVED), the one place where the
 * path's state changes. It connects, has every new session checked by the export ({@link SessionCheck}) and, when
 * the export asks for it, prepared before it carries I/O ({@link Admission}), reconnects with {@link Backoff},
 * watches live sessions through the {@link HealthProbe} and retires sessions (draining them where the operator
 * asked).
 *
 * <p>Transitions happen under this object's lock, which the hot path never takes: selection reads the volatile
 * fields only. Whatever a transition triggers outside the path (export notifications, closing sessions, connecting)
 * is queued in {@link DeferredActions} and runs after the lock is released, in order. A generation number, bumped
 * whenever a session or connect attempt is abandoned, makes late timers and late connect results harmless.
 */
final class PathStateMachine {

    private final Path path;
    private final Connector connector;
    private final PathHost host;
    private final EventExecutor executor;
    private final boolean manualFailback;
    private final PathCounters counters;
    private final Backoff backoff;
    private final HealthProbe probe;
    private final DeferredActions after;

    // written under the lock, read without it
    private volatile PathState state = PathState.CONNECTING;
    private volatile AccessState accessState;
    private volatile boolean selectable;
    private volatile boolean awaitingReinstate;
    private volatile boolean attempted;
    private volatile boolean retiring;
    private volatile PathSession session;
    private volatile BackendInfo info;
    private volatile String lastError;

    // guarded by this
    private boolean started;
    private boolean failedSinceLive;
    private int generation;
    private String lastFailure;
    private PathSession draining;
    private AccessState operatorAccessState;
    private AccessState reportedAccessState;
    private ScheduledFuture<?> reconnectTimer;
    private BackendSession admitting; // accepted, its admission still running
    private ScheduledFuture<?> admissionTimer;
    private CompletableFuture<Void> removal;

    PathStateMachine(Path path, BackendDriver driver, PathHost host, EventExecutor executor, PathTimings timing,
            PathCounters counters) {
        this.path = path;
        this.connector = new Connector(path, driver, this);
        this.host = host;
        this.executor = executor;
        this.manualFailback = timing.manualFailback();
        this.counters = counters;
        this.backoff = new Backoff(timing.reconnectMin(), timing.reconnectMax());
        this.probe = new HealthProbe(this, counters, executor, Durations.nanos(timing.probeInterval()));
        this.after = new DeferredActions(path, this);
        AccessState configured = path.config().accessState();
        this.operatorAccessState = configured == null ? AccessState.OPTIMIZED : configured;
        this.accessState = operatorAccessState;
    }

    PathState state() {
        return state;
    }

    AccessState accessState() {
        return accessState;
    }

    boolean selectable() {
        return selectable;
    }

    boolean awaitingReinstate() {
        return awaitingReinstate;
    }

    boolean attempted() {
        return attempted;
    }

    boolean retiring() {
        return retiring;
    }

    PathSession session() {
        return session;
    }

    BackendInfo info() {
        return info;
    }

    String lastError() {
        return lastError;
    }

    /** Why a request failed on this path, for status output; no transition (that is {@link #fail}'s job). */
    void noteError(String message) {
        lastError = message;
    }

    // ---------------------------------------------------------------- commands

    void start() {
        synchronized (this) {
            if (!started && state != PathState.REMOVED && !retiring) {
                started = true;
                if (state != PathState.DISABLED) {
                    beginConnect("connecting");
                }
            }
        }
        after.run();
    }

    boolean fail(PathSession failed, String reason) {
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
        after.run();
        return transitioned;
    }

    void disable() {
        synchronized (this) {
            if (state != PathState.REMOVED && state != PathState.DISABLED && !retiring) {
                PathSession ps = abandonSession();
                lastError = "disabled by operator";
                change(PathState.DISABLED, "disabled by operator", false);
                if (ps != null) {
                    draining = ps;
                    after.add(() -> drainThenClose(ps));
                }
            }
        }
        after.run();
    }

    void reinstate() {
        synchronized (this) {
            if (!retiring) {
                failedSinceLive = false;
                switch (state) {
                    case DISABLED:
                    case FAILED:
                    case REFUSED:
                        backoff.reset();
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
        after.run();
    }

    /** The operator's (or the config's) access state for this path. */
    void accessState(AccessState newState) {
        synchronized (this) {
            operatorAccessState = newState;
            updateAccessState("set by operator");
        }
        after.run();
    }

    /** What the target of session {@code ps} reports ({@link AccessStateSource}); ignored once ps is not live. */
    void reportedAccessState(PathSession ps, AccessState reported) {
        synchronized (this) {
            if (session == ps && reported != reportedAccessState) {
                reportedAccessState = reported;
                updateAccessState("reported by the target");
            }
        }
        after.run();
    }

    /**
     * The effective access state combines the operator's (config or run-time) and the target's. The operator may
     * demote a path but not promote it past what the target allows, since I/O the target refuses would only fail:
     * an operator state that carries no I/O wins; else a target state that carries no I/O wins; else the path is
     * non-optimized if either says so. With the default (optimized) the path simply follows the target.
     */
    static AccessState effectiveAccessState(AccessState operator, AccessState reported) {
        if (reported == null || !operator.carriesIo()) {
            return operator;
        }
        if (!reported.carriesIo()) {
            return reported;
        }
        return operator == AccessState.NON_OPTIMIZED || reported == AccessState.NON_OPTIMIZED
                ? AccessState.NON_OPTIMIZED : AccessState.OPTIMIZED;
    }

    private void updateAccessState(String why) {
        AccessState effective = effectiveAccessState(operatorAccessState, reportedAccessState);
        if (effective != accessState) {
            accessState = effective;
            change(state, "access state " + effective.label() + " (" + why + ")", false);
        }
    }

    CompletableFuture<Void> remove() {
        CompletableFuture<Void> result;
        synchronized (this) {
            if (removal != null) {
                return removal;
            }
            result = new CompletableFuture<>();
            removal = result;
            retiring = true;
            PathSession live = abandonSession();
            PathSession ps = live != null ? live : draining;
            draining = ps;
            change(state, "removing", false);
            if (ps != null) {
                after.add(() -> drainThenClose(ps).whenComplete((v, e) -> finishRemoval("by operator")));
            } else {
                after.add(() -> finishRemoval("by operator"));
            }
        }
        after.run();
        return result;
    }

    CompletableFuture<Void> shutdown(String reason) {
        CompletableFuture<Void> closed = new CompletableFuture<>();
        synchronized (this) {
            retiring = true;
            PathSession ps = abandonSession();
            PathSession dr = draining;
            draining = null;
            if (state != PathState.REMOVED) {
                change(PathState.REMOVED, reason, false);
            }
            // closing may fail outstanding requests synchronously: never under the lock
            after.add(() -> {
                CompletableFuture<Void> a = ps == null ? CompletableFuture.completedFuture(null) : ps.close();
                CompletableFuture<Void> b = dr == null ? CompletableFuture.completedFuture(null) : dr.close();
                CompletableFuture.allOf(a, b).whenComplete((v, e) -> {
                    connector.shutdown();
                    closed.complete(null);
                });
            });
            CompletableFuture<Void> pendingRemoval = removal;
            if (pendingRemoval != null) {
                after.add(() -> pendingRemoval.complete(null));
            }
        }
        after.run();
        return closed;
    }

    // ---------------------------------------------------------------- connecting

    private void beginConnect(String reason) {
        cancelTimers();
        int gen = ++generation;
        change(PathState.CONNECTING, reason, false);
        after.add(() -> connector.connect(gen));
    }

    void connectTimedOut(int gen, String reason) {
        synchronized (this) {
            // once a session is admitting, its own timer bounds it: this guard lost a race with the connect
            if (gen == generation && state == PathState.CONNECTING && admitting == null) {
                generation++; // the late result, if any, is closed when it arrives
                attempted = true;
                failConnect(reason);
            }
        }
        after.run();
    }

    void connected(int gen, BackendSession s, Throwable error) {
        synchronized (this) {
            if (gen != generation || state != PathState.CONNECTING || retiring) {
                if (s != null) {
                    after.add(() -> Connector.discard(s));
                }
            } else {
                attempted = true;
                if (error != null) {
                    Throwable cause = Causes.unwrap(error);
                    if (cause instanceof BackendException && ((BackendException) cause).isConfigurationError()) {
                        refuse("the target refuses us: " + Causes.describe(cause));
                    } else {
                        failConnect("connect failed: " + Causes.describe(cause));
                    }
                } else {
                    admit(s);
                }
            }
        }
        after.run();
    }

    private void admit(BackendSession s) {
        SessionCheck check = SessionCheck.of(s, path, host);
        if (check.info() != null) {
            info = check.info();
        }
        if (!check.accepted()) {
            after.add(() -> Connector.discard(s));
            refuse(check.refusal());
            return;
        }
        Admission admission = host.admission(path);
        if (admission == null) {
            goLive(s);
            return;
        }
        int gen = generation;
        admitting = s;
        long bound = connector.guardNanos();
        admissionTimer = schedule(() -> admissionTimedOut(gen, s, bound), bound);
        after.add(() -> {
            CompletableFuture<ControlResult<Void>> f;
            try {
                f = admission.run(s);
            } catch (RuntimeException e) {
                f = CompletableFuture.failedFuture(e);
            }
            f.whenComplete((r, e) -> admitted(gen, s, r != null && e == null ? r : broken(e)));
        });
    }

    /** An admission that threw or answered nothing: a bug, so the path is refused (retried slowly) and says why. */
    private static ControlResult<Void> broken(Throwable e) {
        String why = e == null ? "no result" : Causes.describe(Causes.unwrap(e));
        return ControlResult.failed(Failure.target(0, "admission failed: " + why));
    }

    /** The export's admission of session {@code s} finished: live, or failed/refused with its reason. */
    private void admitted(int gen, BackendSession s, ControlResult<Void> result) {
        synchronized (this) {
            if (admitting != s || gen != generation || state != PathState.CONNECTING || retiring) {
                after.add(() -> Connector.discard(s)); // abandoned meanwhile (closed there too; closing is idempotent)
            } else {
                admitting = null;
                cancelAdmissionTimer();
                if (result.succeeded()) {
                    goLive(s);
                } else {
                    after.add(() -> Connector.discard(s));
                    Failure f = result.failure();
                    if (f.isPathError()) {
                        failConnect(f.message());
                    } else {
                        refuse(f.message());
                    }
                }
            }
        }
        after.run();
    }

    private void admissionTimedOut(int gen, BackendSession s, long boundNanos) {
        synchronized (this) {
            if (admitting == s && gen == generation && state == PathState.CONNECTING) {
                admitting = null;
                admissionTimer = null;
                generation++; // the late result discards the session again, harmlessly
                after.add(() -> Connector.discard(s));
                failConnect("admission did not complete within " + Durations.format(boundNanos));
            }
        }
    }

    /** A checked (and, if asked, prepared) session starts carrying I/O. Lock held. */
    private void goLive(BackendSession s) {
        PathSession ps = new PathSession(path, s);
        session = ps;
        AccessStateSource source = s instanceof AccessStateSource ? (AccessStateSource) s : null;
        reportedAccessState = source == null ? null : source.accessState();
        accessState = effectiveAccessState(operatorAccessState, reportedAccessState);
        backoff.reset();
        lastFailure = null;
        counters.resetLastCompletion(System.nanoTime());
        boolean hold = failedSinceLive && manualFailback;
        awaitingReinstate = hold;
        String reason;
        if (hold) {
            lastError = "awaiting operator reinstate (failback: manual); last failure: " + lastError;
            reason = "connected; awaiting operator reinstate (failback: manual)";
        } else {
            lastError = null;
            reason = "connected";
        }
        if (reportedAccessState != null) {
            reason += "; access state " + accessState.label() + " (reported by the target)";
        }
        change(PathState.LIVE, reason, false);
        after.add(() -> probe.watch(ps));
        if (source != null) {
            after.add(() -> {
                source.onAccessStateChange(st -> reportedAccessState(ps, st));
                reportedAccessState(ps, source.accessState()); // a change before the listener was in place
            });
        }
    }

    void sessionLost(PathSession ps) {
        synchronized (this) {
            if (session == ps && state == PathState.LIVE) {
                String why = ps.backend().lossReason();
                failLive(why == null ? "session closed" : "session lost: " + why);
            }
        }
        after.run();
    }

    // ---------------------------------------------------------------- transitions (lock held)

    private void failLive(String reason) {
        PathSession ps = abandonSession();
        failedSinceLive = true;
        lastError = reason;
        boolean repeat = repeats(reason);
        change(PathState.FAILED, reason, repeat);
        if (ps != null) {
            after.add(ps::close);
        }
        scheduleReconnect(backoff.next());
    }

    private void failConnect(String reason) {
        retryLater(PathState.FAILED, reason, reason, backoff.next());
    }

    private void refuse(String reason) {
        retryLater(PathState.REFUSED, "refused: " + reason, reason, backoff.refused());
    }

    /** A connect attempt failed or was refused: {@code to}, and the next attempt after {@code delay}. */
    private void retryLater(PathState to, String error, String reason, long delayNanos) {
        lastError = error;
        boolean repeat = repeats(reason);
        change(to, reason + "; retrying in " + Durations.format(delayNanos), repeat);
        scheduleReconnect(delayNanos);
    }

    /** Whether the path failed for the same reason last time (the export logs repeats quietly). */
    private boolean repeats(String reason) {
        boolean repeat = reason.equals(lastFailure);
        lastFailure = reason;
        return repeat;
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
        after.run();
    }

    private void change(PathState to, String reason, boolean repeat) {
        PathState from = state;
        state = to;
        selectable = to == PathState.LIVE && session != null && !retiring && !awaitingReinstate
                && accessState.carriesIo();
        PathEvent event = new PathEvent(path, from, to, reason, counters.inFlight(), repeat);
        after.add(() -> host.pathEvent(event));
    }

    /**
     * Stops using the current session: it leaves selection, timers stop, and late results for it are ignored. The
     * session goes first, so the probe cannot adopt it again.
     *
     * @return the session, for the caller to close or drain, or null
     */
    private PathSession abandonSession() {
        generation++;
        PathSession ps = session;
        session = null;
        BackendSession pending = admitting;
        if (pending != null) {
            admitting = null;
            after.add(() -> Connector.discard(pending));
        }
        cancelTimers();
        awaitingReinstate = false;
        return ps;
    }

    private void cancelTimers() {
        if (reconnectTimer != null) {
            reconnectTimer.cancel(false);
            reconnectTimer = null;
        }
        cancelAdmissionTimer();
        probe.stop();
    }

    private void cancelAdmissionTimer() {
        if (admissionTimer != null) {
            admissionTimer.cancel(false);
            admissionTimer = null;
        }
    }

    // ---------------------------------------------------------------- retiring

    private CompletableFuture<Void> drainThenClose(PathSession ps) {
        return SessionDrain.drainThenClose(path, ps, executor, () -> {
            synchronized (this) {
                if (draining == ps) {
                    draining = null;
                }
            }
        });
    }

    private void finishRemoval(String reason) {
        CompletableFuture<Void> result;
        synchronized (this) {
            result = removal;
            if (state != PathState.REMOVED) {
                change(PathState.REMOVED, reason, false);
                after.add(connector::shutdown);
            }
            after.add(() -> result.complete(null));
        }
        after.run();
    }

    // ---------------------------------------------------------------- plumbing

    /** Runs {@code task}, then the actions it deferred; null if the executor is shutting down (so is the export). */
    ScheduledFuture<?> schedule(Runnable task, long delayNanos) {
        try {
            return executor.schedule(() -> {
                task.run();
                after.run();
            }, delayNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            return null;
        }
    }
}
