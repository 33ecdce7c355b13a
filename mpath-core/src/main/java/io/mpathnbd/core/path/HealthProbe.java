package io.mpathnbd.core.path;

import io.mpathnbd.core.time.Durations;
import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Watches a path's live session: notices when it is lost, and probes it when no request has completed for a probe
 * interval (a probe still pending at the next tick counts as failed). Completing requests are proof of life, so a
 * busy path is never probed.
 */
final class HealthProbe {
    private final PathStateMachine machine;
    private final PathCounters counters;
    private final EventExecutor executor;
    private final long intervalNanos;
    private ScheduledFuture<?> timer; // guarded by this

    HealthProbe(PathStateMachine machine, PathCounters counters, EventExecutor executor, long intervalNanos) {
        this.machine = machine;
        this.counters = counters;
        this.executor = executor;
        this.intervalNanos = intervalNanos;
    }

    /** Starts watching a session that just went live. */
    void watch(PathSession ps) {
        ps.backend().closeFuture().whenComplete((v, e) -> machine.sessionLost(ps));
        if (intervalNanos <= 0) {
            return;
        }
        ScheduledFuture<?> t;
        try {
            t = executor.scheduleAtFixedRate(() -> tick(ps), intervalNanos, intervalNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            return;
        }
        synchronized (this) {
            // the machine drops a session before it stops the probe, so a dropped one is never adopted here
            if (machine.session() == ps) {
                if (timer != null) {
                    timer.cancel(false);
                }
                timer = t;
                return;
            }
        }
        t.cancel(false);
    }

    /** Stops probing (the session was dropped). */
    synchronized void stop() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void tick(PathSession ps) {
        if (machine.session() != ps) {
            return; // the timer is stopped by whoever dropped the session
        }
        if (ps.probePending) {
            machine.fail(ps, "health probe did not complete within " + Durations.format(intervalNanos));
            return;
        }
        if (System.nanoTime() - counters.lastCompletionNanos() < intervalNanos) {
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
                machine.fail(ps, "health probe failed: " + Causes.describe(Causes.unwrap(e)));
            }
        });
    }
}
