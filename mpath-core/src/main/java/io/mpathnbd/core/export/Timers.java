package io.mpathnbd.core.export;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.EventExecutorGroup;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The export's timers (hold deadlines, fence and retry delays, the readiness grace, the removal delay), on the front
 * end's event loops.
 */
final class Timers {
    private final EventExecutorGroup executors;

    Timers(EventExecutorGroup executors) {
        this.executors = executors;
    }

    /** Runs {@code task} after the delay; at once if the executors are shutting down (then the export is closing). */
    ScheduledFuture<?> schedule(Runnable task, long delayNanos) {
        try {
            return executors.next().schedule(task, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            task.run();
            return null;
        }
    }

    /** An executor for a new path's own timers. */
    EventExecutor next() {
        return executors.next();
    }
}
