package io.mpathnbd.server;

import io.mpathnbd.server.config.Units;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process's event loops: one boss thread accepting connections and a worker group (one thread per core by
 * default) shared by client connections, backend connections and timers. Native epoll when available, else NIO.
 * With native epoll the workers may busy-poll ({@link BusyPollStrategy}); the boss never does.
 */
public final class EventLoops implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EventLoops.class);

    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final int threads;
    private final boolean epoll;
    private final Duration busyPoll;
    private final BusyPollHandlers busyPollHandlers;

    private EventLoops(EventLoopGroup boss, EventLoopGroup workers, int threads, boolean epoll, Duration busyPoll,
            BusyPollHandlers busyPollHandlers) {
        this.boss = boss;
        this.workers = workers;
        this.threads = threads;
        this.epoll = epoll;
        this.busyPoll = busyPoll;
        this.busyPollHandlers = busyPollHandlers;
    }

    /**
     * Loops for helpers (demo targets, discovery, tests): no busy-poll, and quiet about it.
     *
     * @param workerThreads worker threads; 0 = one per available core
     */
    public static EventLoops create(String namePrefix, int workerThreads) {
        EventLoops loops = build(namePrefix, workerThreads, Duration.ZERO);
        if (loops.epoll) {
            LOG.debug("{}", loops.describe(namePrefix, Duration.ZERO));
        } else {
            LOG.info("{}", loops.describe(namePrefix, Duration.ZERO));
        }
        return loops;
    }

    /**
     * The gateway's loops, announced in one log line.
     *
     * @param workerThreads worker threads; 0 = one per available core
     * @param busyPoll the workers' spin window ({@link BusyPollStrategy}); zero = off; ignored without native epoll
     */
    public static EventLoops create(String namePrefix, int workerThreads, Duration busyPoll) {
        EventLoops loops = build(namePrefix, workerThreads, busyPoll);
        LOG.info("{}", loops.describe(namePrefix, busyPoll));
        return loops;
    }

    private static EventLoops build(String namePrefix, int workerThreads, Duration busyPoll) {
        int n = workerThreads > 0 ? workerThreads : Runtime.getRuntime().availableProcessors();
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory plain = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        BusyPollHandlers spinning = epoll && busyPoll.toNanos() > 0 ? new BusyPollHandlers(busyPoll.toNanos()) : null;
        EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1,
                new DefaultThreadFactory(namePrefix + "-accept", true), plain);
        EventLoopGroup workers = new MultiThreadIoEventLoopGroup(n,
                new DefaultThreadFactory(namePrefix + "-io", true), spinning != null ? spinning : plain);
        return new EventLoops(boss, workers, n, epoll, spinning != null ? busyPoll : Duration.ZERO, spinning);
    }

    public static EventLoops create() {
        return create("mpath", 0);
    }

    /** One line: the transport, the threads and what the workers do before they sleep. */
    private String describe(String namePrefix, Duration requested) {
        if (!epoll) {
            Throwable cause = Epoll.unavailabilityCause();
            String line = namePrefix + ": native epoll not available ("
                    + (cause == null ? "not Linux" : cause.getMessage()) + "), using NIO with " + threads
                    + " I/O threads";
            return requested.isZero() ? line
                    : line + "; busy-poll " + Units.format(requested) + " ignored (it needs native epoll)";
        }
        String line = namePrefix + ": native epoll transport, " + threads + " I/O threads, busy-poll ";
        return busyPoll.isZero() ? line + "off"
                : line + Units.format(busyPoll) + " (after recent I/O a loop polls epoll up to that long before"
                        + " it sleeps)";
    }

    public EventLoopGroup boss() {
        return boss;
    }

    public EventLoopGroup workers() {
        return workers;
    }

    public boolean epoll() {
        return epoll;
    }

    /** The workers' busy-poll window in effect: zero when off or without native epoll. */
    public Duration busyPoll() {
        return busyPoll;
    }

    /** How many worker loops busy-poll: all of them, or none. */
    public int busyPollingLoops() {
        return busyPollHandlers == null ? 0 : busyPollHandlers.created();
    }

    public Class<? extends ServerChannel> serverChannelClass() {
        return epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    /** Stops both groups and waits (bounded) for their threads to end. */
    @Override
    public void close() {
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        boss.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
        workers.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
