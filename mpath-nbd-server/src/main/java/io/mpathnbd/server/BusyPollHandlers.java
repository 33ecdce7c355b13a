package io.mpathnbd.server;

import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.concurrent.SingleThreadEventExecutor;
import io.netty.util.concurrent.ThreadAwareExecutor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * Native epoll handlers whose loops busy-poll ({@link BusyPollStrategy}). Netty's own factory takes a select strategy
 * without the loop it will serve; this one builds each strategy with its loop, so a spin can see the loop's queued
 * tasks.
 */
final class BusyPollHandlers implements IoHandlerFactory {
    private final long windowNanos;
    private final AtomicInteger created = new AtomicInteger();

    BusyPollHandlers(long windowNanos) {
        this.windowNanos = windowNanos;
    }

    @Override
    public IoHandler newHandler(ThreadAwareExecutor loop) {
        BusyPollStrategy strategy = new BusyPollStrategy(windowNanos, System::nanoTime, tasksOf(loop));
        IoHandler handler = EpollIoHandler.newFactory(0, () -> strategy).newHandler(loop);
        created.incrementAndGet();
        return handler;
    }

    /** As Netty's epoll factory: neither the handler nor the strategy is tied to a thread, only to its loop. */
    @Override
    public boolean isChangingThreadSupported() {
        return true;
    }

    /** How many loops busy-poll. */
    int created() {
        return created.get();
    }

    private static BooleanSupplier tasksOf(ThreadAwareExecutor loop) {
        if (loop instanceof SingleThreadEventExecutor executor) {
            return () -> executor.pendingTasks() > 0;
        }
        // not one of Netty's own loops: a task queued during a spin then waits for the spin to end (one window)
        return () -> false;
    }
}
