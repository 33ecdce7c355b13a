package io.mpathnbd.iscsi.session;

import io.mpathnbd.iscsi.pdu.IscsiPduDecoder;
import io.mpathnbd.iscsi.pdu.IscsiPduEncoder;
import io.mpathnbd.iscsi.pdu.PduSettings;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Opens the TCP connection to a portal and runs the login on it, all bounded by the login timeout. */
final class Transport {
    private static final Logger LOG = LoggerFactory.getLogger(Transport.class);

    private Transport() {
    }

    static CompletableFuture<IscsiConnection> login(IscsiSessionConfig config, EventLoop loop,
            Class<? extends Channel> socketChannel) {
        CompletableFuture<IscsiConnection> result = new CompletableFuture<>();
        String display = display(config);
        long timeoutNanos = config.loginTimeout().toNanos();
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channel(socketChannel)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, Math.min(Integer.MAX_VALUE,
                        TimeUnit.NANOSECONDS.toMillis(timeoutNanos))))
                .option(ChannelOption.RECVBUF_ALLOCATOR, new AdaptiveRecvByteBufAllocator(512, 64 * 1024,
                        1024 * 1024))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        PduSettings settings = new PduSettings();
                        ch.pipeline()
                                .addLast("iscsi-decoder", IscsiPduDecoder.initiator(settings))
                                .addLast("iscsi-encoder", IscsiPduEncoder.initiator(settings))
                                .addLast("iscsi-login", new LoginHandler(config, settings, display, result));
                    }
                });
        ChannelFuture connect;
        try {
            connect = b.connect(config.portal());
        } catch (RuntimeException e) {
            result.completeExceptionally(new IOException(display + ": cannot connect: " + e.getMessage(), e));
            return logged(result, display);
        }
        connect.addListener(f -> {
            if (!f.isSuccess()) {
                Throwable cause = f.cause();
                result.completeExceptionally(new IOException(display + ": cannot connect: "
                        + (cause == null ? "cancelled" : cause.getMessage()), cause));
            }
        });
        ScheduledFuture<?> timer = loop.schedule(() -> {
            result.completeExceptionally(new IOException(display + ": login did not complete within "
                    + config.loginTimeout().toMillis() + " ms"));
        }, timeoutNanos, TimeUnit.NANOSECONDS);
        result.whenComplete((c, e) -> {
            timer.cancel(false);
            if (e != null) {
                connect.channel().close();
            }
        });
        return logged(result, display);
    }

    private static CompletableFuture<IscsiConnection> logged(CompletableFuture<IscsiConnection> result,
            String display) {
        result.whenComplete((c, e) -> {
            if (e instanceof LoginException) {
                LoginException le = (LoginException) e;
                LOG.warn("{}{}", le.getMessage(), le.isConfigurationError() ? " [configuration error]" : "");
            } else if (e != null) {
                LOG.warn("{}", e.getMessage());
            }
        });
        return result;
    }

    static String display(IscsiSessionConfig config) {
        return "iSCSI " + (config.discovery() ? "discovery" : config.targetName()) + " at " + config.portalText();
    }
}
