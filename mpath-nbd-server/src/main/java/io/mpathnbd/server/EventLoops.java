package io.mpathnbd.server;

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
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process's event loops: one boss thread accepting connections and a worker group (one thread per core by
 * default) shared by client connections, backend connections and timers. Native epoll when available, else NIO.
 */
public final class EventLoops implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EventLoops.class);

    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final boolean epoll;

    private EventLoops(EventLoopGroup boss, EventLoopGroup workers, boolean epoll) {
        this.boss = boss;
        this.workers = workers;
        this.epoll = epoll;
    }

    /** @param workerThreads worker threads; 0 = one per available core */
    public static EventLoops create(String namePrefix, int workerThreads) {
        int n = workerThreads > 0 ? workerThreads : Runtime.getRuntime().availableProcessors();
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory factory = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1,
                new DefaultThreadFactory(namePrefix + "-accept", true), factory);
        EventLoopGroup workers = new MultiThreadIoEventLoopGroup(n,
                new DefaultThreadFactory(namePrefix + "-io", true), factory);
        if (epoll) {
            LOG.debug("{}: native epoll transport, {} I/O threads", namePrefix, n);
        } else {
            LOG.info("{}: native epoll not available ({}), using NIO with {} I/O threads", namePrefix,
                    Epoll.unavailabilityCause() == null ? "not Linux" : Epoll.unavailabilityCause().getMessage(), n);
        }
        return new EventLoops(boss, workers, epoll);
    }

    public static EventLoops create() {
        return create("mpath", 0);
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
