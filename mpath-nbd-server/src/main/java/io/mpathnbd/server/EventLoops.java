package io.mpathnbd.server;

import io.mpathnbd.server.config.IoTransport;
import io.mpathnbd.server.config.Units;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process's event loops: one boss thread accepting connections and a worker group (one thread per core by
 * default) shared by client connections, backend connections and timers, on one {@link IoTransport} (native epoll
 * by default, io_uring or NIO by choice). With native epoll the workers may busy-poll ({@link BusyPollStrategy}); the
 * boss never does.
 */
public final class EventLoops implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EventLoops.class);

    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final int threads;
    private final IoTransport transport;
    private final Duration busyPoll;
    private final BusyPollHandlers busyPollHandlers;

    private EventLoops(EventLoopGroup boss, EventLoopGroup workers, int threads, IoTransport transport,
            Duration busyPoll, BusyPollHandlers busyPollHandlers) {
        this.boss = boss;
        this.workers = workers;
        this.threads = threads;
        this.transport = transport;
        this.busyPoll = busyPoll;
        this.busyPollHandlers = busyPollHandlers;
    }

    /**
     * Loops for helpers (demo targets, discovery, tests): the default transport, no busy-poll, and quiet about it.
     *
     * @param workerThreads worker threads; 0 = one per available core
     */
    public static EventLoops create(String namePrefix, int workerThreads) {
        EventLoops loops = build(namePrefix, workerThreads, Duration.ZERO, IoTransport.AUTO);
        if (loops.epoll()) {
            LOG.debug("{}", loops.describe(namePrefix, IoTransport.AUTO, Duration.ZERO));
        } else {
            LOG.info("{}", loops.describe(namePrefix, IoTransport.AUTO, Duration.ZERO));
        }
        return loops;
    }

    /** The gateway's loops on the default transport, announced in one log line. */
    public static EventLoops create(String namePrefix, int workerThreads, Duration busyPoll) {
        return create(namePrefix, workerThreads, busyPoll, IoTransport.AUTO);
    }

    /**
     * The gateway's loops, announced in one log line (a WARN when the requested transport could not load).
     *
     * @param workerThreads worker threads; 0 = one per available core
     * @param busyPoll the workers' spin window ({@link BusyPollStrategy}); zero = off; ignored without native epoll
     * @param requested the transport asked for; one that cannot load falls back as {@link IoTransport#resolve} says
     */
    public static EventLoops create(String namePrefix, int workerThreads, Duration busyPoll, IoTransport requested) {
        EventLoops loops = build(namePrefix, workerThreads, busyPoll, requested);
        String line = loops.describe(namePrefix, requested, busyPoll);
        if (requested != IoTransport.AUTO && requested != loops.transport) {
            LOG.warn("{}", line);
        } else {
            LOG.info("{}", line);
        }
        return loops;
    }

    private static EventLoops build(String namePrefix, int workerThreads, Duration busyPoll, IoTransport requested) {
        int n = workerThreads > 0 ? workerThreads : Runtime.getRuntime().availableProcessors();
        IoTransport transport = requested.resolve();
        IoHandlerFactory plain = transport.handlerFactory();
        BusyPollHandlers spinning = transport == IoTransport.EPOLL && busyPoll.toNanos() > 0
                ? new BusyPollHandlers(busyPoll.toNanos()) : null;
        EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1,
                new DefaultThreadFactory(namePrefix + "-accept", true), plain);
        EventLoopGroup workers = new MultiThreadIoEventLoopGroup(n,
                new DefaultThreadFactory(namePrefix + "-io", true), spinning != null ? spinning : plain);
        return new EventLoops(boss, workers, n, transport, spinning != null ? busyPoll : Duration.ZERO, spinning);
    }

    public static EventLoops create() {
        return create("mpath", 0);
    }

    /** One line: the transport (and why not the one asked for), the threads and what the workers do before sleep. */
    private String describe(String namePrefix, IoTransport requested, Duration requestedBusyPoll) {
        StringBuilder line = new StringBuilder(namePrefix).append(": ");
        if (requested != IoTransport.AUTO && requested != transport) {
            line.append("transport ").append(requested.label()).append(" not available (")
                    .append(requested.unavailabilityCause()).append("), falling back to ");
        } else if (requested == IoTransport.AUTO && transport == IoTransport.NIO) {
            line.append("native epoll not available (").append(IoTransport.EPOLL.unavailabilityCause())
                    .append("), using ");
        }
        line.append(switch (transport) {
            case EPOLL -> "native epoll";
            case IO_URING -> "io_uring";
            default -> "NIO";
        }).append(" transport, ").append(threads).append(" I/O threads");
        if (transport != IoTransport.EPOLL) {
            return requestedBusyPoll.isZero() ? line.toString()
                    : line + "; busy-poll " + Units.format(requestedBusyPoll) + " ignored (it needs native epoll)";
        }
        line.append(", busy-poll ");
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

    /** Whether the loops run on native epoll (the only transport busy-poll works with). */
    public boolean epoll() {
        return transport == IoTransport.EPOLL;
    }

    /** The transport the loops run on (never {@code auto}). */
    public IoTransport transport() {
        return transport;
    }

    /** The socket channel class for outgoing connections on these loops. */
    public Class<? extends Channel> socketChannelClass() {
        return transport.socketChannel();
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
        return transport.serverChannel();
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
