package io.mpathnbd.server.frontend;

import io.mpathnbd.nbd.protocol.NbdServerHandshakeDecoder;
import io.mpathnbd.nbd.protocol.NbdServerHandshakeEncoder;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.flush.FlushConsolidationHandler;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The NBD server clients attach to: listens, runs the fixed-newstyle handshake on each connection, then forwards its
 * requests to the chosen export. Each connection's pipeline starts as
 * {@code flush-consolidation, handshake-decoder, handshake-encoder, handshake} and becomes
 * {@code flush-consolidation, [payload-deadline], request-decoder, reply-encoder, [idle], transmission} on GO or
 * EXPORT_NAME.
 */
public final class NbdFrontend {
    private static final Logger LOG = LoggerFactory.getLogger(NbdFrontend.class);

    static final String FLUSH = "flush-consolidation";
    static final String HANDSHAKE_DECODER = "handshake-decoder";
    static final String HANDSHAKE_ENCODER = "handshake-encoder";
    static final String HANDSHAKE = "handshake";
    static final String PAYLOAD_DEADLINE = "payload-deadline";
    static final String REQUEST_DECODER = "request-decoder";
    static final String REPLY_ENCODER = "reply-encoder";
    static final String IDLE = "idle";
    static final String TRANSMISSION = "transmission";

    /** How long {@link #close()} lets connections finish their requests in flight before closing them anyway. */
    public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(10);

    /** Flushes one socket write for up to this many replies while requests keep arriving. */
    private static final int FLUSHES_PER_BATCH = 256;
    /**
     * A connection with more unsent reply bytes than this stops being read until it drains below the low mark. Large
     * enough for a few big READ replies in flight to a client that does read.
     */
    private static final WriteBufferWaterMark REPLY_BUFFER_MARKS = new WriteBufferWaterMark(1 << 20, 4 << 20);
    /**
     * Socket reads of up to 1 MiB (Netty's default stops at 64 KiB): a large WRITE then takes one or two reads, not
     * sixteen or more; measured, 1 MiB sequential writes cost the gateway a fifth less CPU per byte. The size adapts
     * down for small requests, and the decoder copies a small payload out of a mostly empty read buffer rather than
     * holding the whole buffer (see PayloadCollector): held WRITEs never pin read buffers that are mostly empty.
     */
    private static final AdaptiveRecvByteBufAllocator REQUEST_READ_SIZES =
            new AdaptiveRecvByteBufAllocator(64, 2048, 1 << 20);

    private final ExportCatalog catalog;
    private final FrontendLimits limits;
    private final FrontendObserver observer;
    private final EventLoopGroup bossGroup;
    private final EventLoopGroup workerGroup;
    /** The listener's channel class, matching the event loops' transport. */
    private final Class<? extends ServerChannel> channelType;
    private final Set<ClientConnection> connections = ConcurrentHashMap.newKeySet();
    private final AtomicInteger connectionCount = new AtomicInteger();
    private final List<Channel> listeners = new CopyOnWriteArrayList<>();
    private final AddressCounts perAddress;
    private final RefusalLog refusals = new RefusalLog(LOG, RefusalLog.INTERVAL_NANOS);
    private volatile boolean closing;
    private volatile CompletableFuture<Void> closed;

    public NbdFrontend(ExportCatalog catalog, FrontendLimits limits, FrontendObserver observer,
            EventLoopGroup bossGroup, EventLoopGroup workerGroup, Class<? extends ServerChannel> channelType) {
        this.catalog = Objects.requireNonNull(catalog, "catalog");
        this.limits = Objects.requireNonNull(limits, "limits");
        this.observer = observer == null ? FrontendObserver.NONE : observer;
        this.bossGroup = Objects.requireNonNull(bossGroup, "bossGroup");
        this.workerGroup = Objects.requireNonNull(workerGroup, "workerGroup");
        this.channelType = Objects.requireNonNull(channelType, "channelType");
        this.perAddress = new AddressCounts(limits.maxConnectionsPerAddress());
    }

    /** Starts listening; port 0 picks a free port. The future gives the address actually bound. */
    public CompletableFuture<InetSocketAddress> bind(String host, int port) {
        CompletableFuture<InetSocketAddress> result = new CompletableFuture<>();
        if (closing) {
            result.completeExceptionally(new IllegalStateException("front end is closed"));
            return result;
        }
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(bossGroup, workerGroup)
                .channel(channelType)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, REPLY_BUFFER_MARKS)
                .childOption(ChannelOption.RECVBUF_ALLOCATOR, REQUEST_READ_SIZES)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        accept(ch);
                    }
                });
        ChannelFuture bound = bootstrap.bind(host, port);
        bound.addListener(f -> {
            if (!f.isSuccess()) {
                result.completeExceptionally(f.cause());
                return;
            }
            Channel listener = bound.channel();
            listeners.add(listener);
            if (closing) {
                listener.close();
                result.completeExceptionally(new IllegalStateException("front end closed while binding"));
                return;
            }
            InetSocketAddress address = (InetSocketAddress) listener.localAddress();
            LOG.info("NBD front end listening on {}:{} ({})", address.getHostString(), address.getPort(),
                    channelType.getSimpleName());
            result.complete(address);
        });
        return result;
    }

    /** Client connections open right now (in handshake or transmission). */
    public int activeConnections() {
        return connectionCount.get();
    }

    /** {@link #close(Duration)} with {@link #DEFAULT_DRAIN_TIMEOUT}. */
    public CompletableFuture<Void> close() {
        return close(DEFAULT_DRAIN_TIMEOUT);
    }

    /**
     * Stops accepting; connections still negotiating are closed; connections in transmission answer further
     * requests with ESHUTDOWN and close once their requests in flight are answered, or when {@code drainTimeout}
     * has passed. Completes when every listener and connection is closed. Idempotent.
     */
    public synchronized CompletableFuture<Void> close(Duration drainTimeout) {
        if (closed != null) {
            return closed;
        }
        closing = true;
        LOG.info("NBD front end closing: {} connections to drain", connections.size());
        List<CompletableFuture<Void>> parts = new ArrayList<>();
        for (Channel listener : listeners) {
            parts.add(closeFuture(listener.close()));
        }
        List<ClientConnection> open = new ArrayList<>(connections);
        for (ClientConnection conn : open) {
            parts.add(closeFuture(conn.channel().closeFuture()));
            conn.beginShutdown();
        }
        CompletableFuture<Void> all = CompletableFuture.allOf(parts.toArray(new CompletableFuture<?>[0]));
        ScheduledFuture<?> deadline;
        try {
            deadline = workerGroup.next().schedule(() -> closeRemaining(drainTimeout), drainTimeout.toNanos(),
                    TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            // the event loops are already stopping: nothing can drain any more
            deadline = null;
            closeRemaining(Duration.ZERO);
        }
        ScheduledFuture<?> timer = deadline;
        closed = all.whenComplete((v, e) -> {
            if (timer != null) {
                timer.cancel(false);
            }
            LOG.info("NBD front end closed");
        });
        return closed;
    }

    private void closeRemaining(Duration after) {
        for (ClientConnection conn : connections) {
            if (conn.channel().isOpen()) {
                LOG.info("{}: closing connection: requests still in flight after {}", conn.remote(), after);
                conn.channel().close();
            }
        }
    }

    private void accept(SocketChannel ch) {
        if (closing) {
            ch.close();
            return;
        }
        if (connectionCount.incrementAndGet() > limits.maxConnections()) {
            connectionCount.decrementAndGet();
            refusals.refused(ch.remoteAddress() + ": more than " + limits.maxConnections()
                    + " client connections (max-connections)");
            observer.protocolError("max-connections");
            ch.close();
            return;
        }
        InetAddress from = ch.remoteAddress() == null ? null : ch.remoteAddress().getAddress();
        if (!perAddress.acquire(from)) {
            connectionCount.decrementAndGet();
            refusals.refused(ch.remoteAddress() + ": more than " + limits.maxConnectionsPerAddress()
                    + " connections from " + from.getHostAddress() + " (max-connections-per-address)");
            observer.protocolError("max-connections-per-address");
            ch.close();
            return;
        }
        ClientConnection conn = new ClientConnection(ch, observer);
        connections.add(conn);
        observer.connectionOpened();
        ch.closeFuture().addListener(f -> {
            connections.remove(conn);
            perAddress.release(from);
            connectionCount.decrementAndGet();
            conn.closed();
        });
        ch.pipeline()
                .addLast(FLUSH, new FlushConsolidationHandler(FLUSHES_PER_BATCH, true))
                .addLast(HANDSHAKE_DECODER, new NbdServerHandshakeDecoder(limits.maxOptionLength()))
                .addLast(HANDSHAKE_ENCODER, new NbdServerHandshakeEncoder())
                .addLast(HANDSHAKE, new HandshakeHandler(conn, catalog, limits));
        if (closing) {
            // close() may have taken its snapshot of the connections just before this one was added
            conn.beginShutdown();
        }
    }

    private static CompletableFuture<Void> closeFuture(ChannelFuture f) {
        CompletableFuture<Void> cf = new CompletableFuture<>();
        f.addListener(x -> cf.complete(null));
        return cf;
    }
}
