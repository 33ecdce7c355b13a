package io.mpathnbd.server;

import io.netty.channel.SelectStrategy;
import io.netty.util.IntSupplier;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * An epoll event loop's choice between waiting and sleeping: while I/O keeps coming, it polls epoll without blocking
 * (yielding the core between polls) for up to a window before it goes to sleep, so an answer that arrives within
 * microseconds is handled without the cost of a thread wake-up; an idle loop sleeps at once.
 *
 * <p>"Keeps coming" means the loop came back (with I/O, a task or a timer) within the window of when it last began
 * to wait. A spin that runs out makes the next wait longer than the window, so the loop sleeps on the next
 * turn and spins again only after a wait that turned out short: a loop whose I/O arrives slower than the window
 * spins at most every other wait, and an idle loop never.
 *
 * <p>Contract with Netty 4.2's {@code EpollIoHandler.run}: {@code selectNow} is a non-blocking {@code epoll_wait}
 * into the handler's event array; a positive result must be returned unchanged (Netty then processes that many
 * events from the array), 0 means nothing to process, {@link #SELECT} makes Netty block in {@code epoll_wait}.
 * While the loop polls, another thread's task submission does not write the wake-up eventfd (Netty only signals a
 * loop that is blocked), so the spin checks for queued tasks itself. Timers already due make Netty pass
 * {@code hasTasks}; one that falls due during a spin fires from the timerfd if that was armed for it, else when
 * the spin ends: at most one window late. Not thread-safe: one instance per event loop.
 */
final class BusyPollStrategy implements SelectStrategy {
    private final long windowNanos;
    private final LongSupplier clock;
    private final BooleanSupplier tasksWaiting;
    /** When the loop last began to wait (poll or sleep); "long ago" until the first call. */
    private long waitStart;

    /**
     * @param windowNanos longest spin per wait, and how soon the loop must come back to count as busy; positive
     * @param clock {@link System#nanoTime} outside of tests
     * @param tasksWaiting whether tasks are queued for the loop (another thread may add them during a spin)
     */
    BusyPollStrategy(long windowNanos, LongSupplier clock, BooleanSupplier tasksWaiting) {
        if (windowNanos <= 0) {
            throw new IllegalArgumentException("window must be positive: " + windowNanos);
        }
        this.windowNanos = windowNanos;
        this.clock = clock;
        this.tasksWaiting = tasksWaiting;
        this.waitStart = clock.getAsLong() - windowNanos - 1;
    }

    @Override
    public int calculateStrategy(IntSupplier selectNow, boolean hasTasks) throws Exception {
        long now = clock.getAsLong();
        boolean busy = now - waitStart <= windowNanos;
        waitStart = now;
        if (hasTasks) {
            // as Netty's default strategy: take what is ready without waiting, then run the tasks
            return selectNow.get();
        }
        if (!busy) {
            return SELECT;
        }
        long deadline = now + windowNanos;
        do {
            int ready = selectNow.get();
            if (ready != 0) {
                return ready;
            }
            if (tasksWaiting.getAsBoolean()) {
                return 0;
            }
            // give the core to a runnable thread (the client, the backend): with a plain spin, two-path 4k QD16 p99
            // doubled on 2 shared cores; with yield it stayed as without busy-poll, and the QD1 gain was the same
            Thread.yield();
        } while (clock.getAsLong() - deadline < 0);
        return SELECT;
    }
}
