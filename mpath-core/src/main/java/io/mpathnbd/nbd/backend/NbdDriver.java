package io.mpathnbd.nbd.backend;

import io.mpathnbd.core.backend.BackendContext;
import io.mpathnbd.core.backend.BackendDriver;
import io.mpathnbd.core.backend.BackendException;
import io.mpathnbd.core.backend.BackendInfo;
import io.mpathnbd.core.backend.BackendSession;
import io.mpathnbd.core.backend.DriverOptions;
import io.mpathnbd.core.backend.Drivers;
import io.mpathnbd.nbd.protocol.NbdClientHandshakeDecoder;
import io.mpathnbd.nbd.protocol.NbdClientHandshakeEncoder;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens NBD sessions to one target. The first connection's handshake tells whether the server allows several
 * connections (CAN_MULTI_CONN); if so, the others are opened on further event loops, each with its own handshake, and
 * must see the same export. The whole of it, TCP connects included, must finish within the connect timeout.
 */
final class NbdDriver implements BackendDriver {
    private static final Logger LOG = LoggerFactory.getLogger(NbdDriver.class);
    /** Handshake replies are small (names and descriptions of at most 4 KiB); anything larger is not NBD. */
    private static final int MAX_HANDSHAKE_REPLY = 64 * 1024;
    private static final NbdClientHandshakeEncoder HANDSHAKE_ENCODER = new NbdClientHandshakeEncoder();

    private final NbdTarget target;
    private final NbdTls tls;
    private final String uri;
    private final BackendContext context;
    private final DriverOptions options;

    /** @param tls null for clear text ({@code nbd://}) */
    NbdDriver(NbdTarget target, NbdTls tls, String uri, BackendContext context, DriverOptions options) {
        this.target = target;
        this.tls = tls;
        this.uri = uri;
        this.context = context;
        this.options = options;
    }

    @Override
    public Boolean zoned() {
        return false;
    }

    @Override
    public String displayUri() {
        return Drivers.redact(uri);
    }

    @Override
    public CompletableFuture<BackendSession> connect() {
        CompletableFuture<BackendSession> result = new CompletableFuture<>();
        long deadline = System.nanoTime() + options.connectTimeout().toNanos();
        EventLoop first = (EventLoop) context.eventLoops().next();
        open(first, deadline, 0).whenComplete((c0, error) -> {
            if (error != null) {
                result.completeExceptionally(unwrap(error));
                return;
            }
            int count = c0.negotiated().multiConn() ? connectionCount() : 1;
            if (count <= 1) {
                result.complete(startSession(List.of(c0)));
                return;
            }
            List<CompletableFuture<NbdConnection>> others = new ArrayList<>();
            List<EventLoop> loops = loopsAfter(first, count - 1);
            for (int i = 0; i < loops.size(); i++) {
                others.add(open(loops.get(i), deadline, i + 1));
            }
            CompletableFuture.allOf(others.toArray(CompletableFuture[]::new)).whenComplete((v, e) -> {
                List<NbdConnection> all = new ArrayList<>();
                all.add(c0);
                Throwable failure = e;
                for (CompletableFuture<NbdConnection> f : others) {
                    if (!f.isCompletedExceptionally()) {
                        NbdConnection c = f.join();
                        all.add(c);
                        if (failure == null && !c.negotiated().sameExportAs(c0.negotiated())) {
                            failure = new BackendException(target.display() + ": connections of one session see"
                                    + " different exports (" + c0.negotiated().describe() + " versus "
                                    + c.negotiated().describe() + ")");
                        }
                    }
                }
                if (failure != null) {
                    all.forEach(NbdDriver::reset);
                    result.completeExceptionally(unwrap(failure));
                } else {
                    result.complete(startSession(all));
                }
            });
        });
        return result;
    }

    private NbdSession startSession(List<NbdConnection> connections) {
        Negotiated n = connections.get(0).negotiated();
        BackendInfo info = n.toInfo(options.maxPayload());
        NbdSession session = new NbdSession(target.display(), info, connections, options.requestTimeout());
        LOG.info("connected to {}: {}, {} connection(s), max payload {}{}{}", target.display(), n.describe(),
                connections.size(), info.maxPayload(), tls == null ? "" : ", " + tls.describe(connections.get(0)),
                n.description() == null ? "" : ", description '" + n.description() + "'");
        return session;
    }

    /** One TCP connection and its handshake, on {@code loop}, bounded by the session's connect deadline. */
    private CompletableFuture<NbdConnection> open(EventLoop loop, long deadline, int index) {
        CompletableFuture<NbdConnection> result = new CompletableFuture<>();
        long remaining = deadline - System.nanoTime();
        if (remaining <= 0) {
            result.completeExceptionally(timeout());
            return result;
        }
        String display = target.display() + (index == 0 ? "" : " #" + index);
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channel(context.socketChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(remaining)))
                // kernel socket buffers stay autotuned (a fixed SO_RCVBUF would switch that off); reads come in
                // buffers of up to 1 MiB so large READ replies need few syscalls
                .option(ChannelOption.RECVBUF_ALLOCATOR, new AdaptiveRecvByteBufAllocator(512, 64 * 1024, 1024 * 1024))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        NbdClientHandshakeDecoder decoder = new NbdClientHandshakeDecoder(MAX_HANDSHAKE_REPLY);
                        ch.pipeline()
                                .addLast(NbdConnection.HANDSHAKE_DECODER, decoder)
                                .addLast(NbdConnection.HANDSHAKE_ENCODER, HANDSHAKE_ENCODER)
                                .addLast(NbdConnection.HANDSHAKE, new NbdHandshakeHandler(target.exportName(),
                                        display, decoder, tls == null ? null
                                                : () -> tls.newHandler(ch.alloc(), target.port()),
                                        n -> new NbdConnection(ch, n,
                                                Math.min(options.maxPayload(), n.maxBlock()),
                                                options.requestTimeout(), display), result));
                    }
                });
        ChannelFuture connect = b.connect(target.host(), target.port());
        connect.addListener(f -> {
            if (!f.isSuccess()) {
                Throwable cause = f.cause();
                result.completeExceptionally(new BackendException(display + ": cannot connect: "
                        + (cause == null ? "cancelled" : cause.getMessage()), cause));
            }
        });
        ScheduledFuture<?> timer = loop.schedule(() -> {
            if (result.completeExceptionally(timeout())) {
                connect.channel().close();
            }
        }, remaining, TimeUnit.NANOSECONDS);
        result.whenComplete((c, e) -> {
            timer.cancel(false);
            if (e != null) {
                connect.channel().close();
            }
        });
        return result;
    }

    private BackendException timeout() {
        return new BackendException(target.display() + ": no connection and handshake within "
                + options.connectTimeout().toMillis() + " ms");
    }

    private int connectionCount() {
        if (options.connections() > 0) {
            return options.connections();
        }
        int loops = 0;
        for (EventExecutor ignored : context.eventLoops()) {
            loops++;
        }
        return Math.max(1, loops);
    }

    /**
     * The event loops for {@code n} more connections after one on {@code first}: the group's loops in turn, starting
     * after {@code first} and wrapping round, so that every loop gets as many connections as any other (give or take
     * one) and a loop's share of a path's requests can use all of its connections.
     */
    private List<EventLoop> loopsAfter(EventLoop first, int n) {
        List<EventLoop> all = new ArrayList<>();
        int start = 0;
        for (EventExecutor e : context.eventLoops()) {
            if (e == first) {
                start = all.size();
            }
            if (e instanceof EventLoop) {
                all.add((EventLoop) e);
            }
        }
        if (all.isEmpty()) {
            all.add(first);
        }
        List<EventLoop> out = new ArrayList<>(n);
        for (int i = 1; i <= n; i++) {
            out.add(all.get((start + i) % all.size()));
        }
        return out;
    }

    private static void reset(NbdConnection c) {
        Channel ch = c.channel();
        ch.eventLoop().execute(() -> {
            if (ch.isOpen()) {
                ch.config().setOption(ChannelOption.SO_LINGER, 0);
                ch.close();
            }
        });
    }

    private static Throwable unwrap(Throwable t) {
        Throwable e = t;
        while (e instanceof CompletionException && e.getCause() != null) {
            e = e.getCause();
        }
        return e instanceof BackendException ? e : new BackendException(e.getMessage(), e);
    }

    @Override
    public String toString() {
        return "NbdDriver[" + target.display() + "]";
    }
}
