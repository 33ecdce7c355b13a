package io.mpathnbd.iscsi.session;

import io.mpathnbd.iscsi.pdu.TextKeys;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One iSCSI session over one TCP connection (MaxConnections=1, ErrorRecoveryLevel=0), in full feature phase. All
 * work happens on the connection's event loop; {@link #execute} may be called from any thread (it hops once). A
 * connection is not reconnected: when it fails, {@link #closeFuture()} completes, {@link #lossReason()} says why,
 * and the owner logs in again (with the same ISID) on a new one.
 */
public final class IscsiConnection {
    static final Logger LOG = LoggerFactory.getLogger(IscsiConnection.class);

    private final IscsiSessionConfig config;
    private final Channel channel;
    private final SessionHandler session;
    private final NegotiatedParameters negotiated;
    private final String display;

    IscsiConnection(IscsiSessionConfig config, Channel channel, SessionHandler session,
            NegotiatedParameters negotiated, String display) {
        this.config = config;
        this.channel = channel;
        this.session = session;
        this.negotiated = negotiated;
        this.display = display;
    }

    /**
     * Connects to {@code cfg.portal()} on {@code loop} with a {@code socketChannel} that matches the loop's transport
     * (NIO, epoll, io_uring) and logs in. Fails
     * with {@link LoginException} when the target refuses, IOException when the connection, the protocol or the
     * login timeout fails.
     */
    public static CompletableFuture<IscsiConnection> login(IscsiSessionConfig cfg, EventLoop loop,
            Class<? extends Channel> socketChannel) {
        return Transport.login(cfg, loop, socketChannel);
    }

    /**
     * Discovery: logs in with SessionType=Discovery ({@code cfg.targetName()} is ignored), asks SendTargets=All,
     * logs out, and returns the targets with their addresses.
     */
    public static CompletableFuture<List<DiscoveredTarget>> discover(IscsiSessionConfig cfg, EventLoop loop,
            Class<? extends Channel> socketChannel) {
        IscsiSessionConfig discovery = cfg.discovery() ? cfg : cfg.withTargetName(null);
        return login(discovery, loop, socketChannel).thenCompose(c -> c.session.text(TextKeys.of("SendTargets", "All"))
                .thenCompose(keys -> {
                    List<DiscoveredTarget> targets = SendTargets.parse(keys);
                    LOG.info("{}: {} target(s) discovered", c.display, targets.size());
                    return c.logout().handle((v, e) -> targets);
                })
                .whenComplete((t, e) -> {
                    if (e != null) {
                        c.close();
                    }
                }));
    }

    public NegotiatedParameters negotiated() {
        return negotiated;
    }

    public IscsiSessionConfig config() {
        return config;
    }

    public EventLoop eventLoop() {
        return channel.eventLoop();
    }

    /**
     * Runs {@code task}; {@code callback} fires exactly once, on the event loop. The write data is not consumed:
     * a retained slice is taken here, before this method returns.
     */
    public void execute(ScsiTask task, ScsiCallback callback) {
        ByteBuf dataOut = task.dataOut();
        ByteBuf own = dataOut != null && dataOut.isReadable() ? dataOut.retainedSlice() : null;
        EventLoop loop = channel.eventLoop();
        if (loop.inEventLoop()) {
            session.submit(task, callback, own, true);
            return;
        }
        try {
            loop.execute(() -> session.submit(task, callback, own, true));
        } catch (RejectedExecutionException e) {
            if (own != null) {
                own.release();
            }
            callback.failed(new TaskFailure(TaskFailure.Kind.CONNECTION_LOST, "event loop shut down"));
        }
    }

    /** Orderly logout (close the session), then close; bounded by the login timeout. */
    public CompletableFuture<Void> logout() {
        return onLoop(session::logout);
    }

    /** Abrupt close: outstanding tasks fail CONNECTION_LOST; completes when the socket is closed. */
    public CompletableFuture<Void> close() {
        EventLoop loop = channel.eventLoop();
        if (loop.inEventLoop()) {
            session.close();
        } else {
            try {
                loop.execute(session::close);
            } catch (RejectedExecutionException e) {
                channel.close();
            }
        }
        return session.closeFuture();
    }

    public CompletableFuture<Void> closeFuture() {
        return session.closeFuture();
    }

    /** Why the connection failed; null while it is open and after an orderly logout or a local close. */
    public String lossReason() {
        return session.lossReason();
    }

    /** Receives the sense data of SCSI asynchronous events (unit attentions the target announces). */
    public void onUnitAttention(Consumer<byte[]> senseListener) {
        channel.eventLoop().execute(() -> session.onUnitAttention(senseListener));
    }

    /** "iSCSI TARGET at host:port". */
    @Override
    public String toString() {
        return display;
    }

    private <T> CompletableFuture<T> onLoop(java.util.function.Supplier<CompletableFuture<T>> action) {
        EventLoop loop = channel.eventLoop();
        if (loop.inEventLoop()) {
            return action.get();
        }
        CompletableFuture<T> out = new CompletableFuture<>();
        try {
            loop.execute(() -> action.get().whenComplete((v, e) -> {
                if (e != null) {
                    out.completeExceptionally(e);
                } else {
                    out.complete(v);
                }
            }));
        } catch (RejectedExecutionException e) {
            out.completeExceptionally(new IOException(display + ": event loop shut down", e));
        }
        return out;
    }

    /** Parses SendTargets answers. */
    static final class SendTargets {
        private SendTargets() {
        }

        static List<DiscoveredTarget> parse(TextKeys keys) {
            List<DiscoveredTarget> out = new ArrayList<>();
            String name = null;
            List<String> addresses = new ArrayList<>();
            for (TextKeys.Pair p : keys.pairs()) {
                if (p.key().equals("TargetName")) {
                    if (name != null) {
                        out.add(new DiscoveredTarget(name, addresses));
                    }
                    name = p.value();
                    addresses = new ArrayList<>();
                } else if (p.key().equals("TargetAddress") && name != null) {
                    addresses.add(p.value());
                }
            }
            if (name != null) {
                out.add(new DiscoveredTarget(name, addresses));
            }
            return out;
        }
    }
}
