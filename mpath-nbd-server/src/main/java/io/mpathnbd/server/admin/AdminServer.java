package io.mpathnbd.server.admin;

import io.mpathnbd.server.EventLoops;
import io.mpathnbd.server.Gateway;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateHandler;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The admin API's HTTP listener (loopback by default): small requests, JSON answers, /metrics, /health; the bearer
 * token checked on each request head when admin-auth asks for one; HTTPS when admin-tls gives a certificate.
 */
public final class AdminServer implements AutoCloseable {
    /** Largest request body accepted; admin requests are a few bytes of JSON. */
    static final int MAX_BODY = 64 * 1024;
    private static final int IDLE_SECONDS = 60;

    private final AdminApi api;
    private final AdminAccess access;
    private final EventLoops loops;
    /** Null: plain HTTP. */
    private final SslContext tls;
    private volatile Channel channel;

    /** @param tls the HTTPS context, or null for plain HTTP */
    public AdminServer(Gateway gateway, EventLoops loops, SslContext tls) {
        this.api = new AdminApi(gateway);
        this.tls = tls;
        this.access = new AdminAccess(gateway.config().adminAuth(), gateway.metrics().registry());
        this.loops = loops;
    }

    /** Binds; the future gives the bound address (port 0 = any free port) or fails with the bind error. */
    public CompletableFuture<InetSocketAddress> bind(String host, int port) {
        CompletableFuture<InetSocketAddress> result = new CompletableFuture<>();
        new ServerBootstrap()
                .group(loops.boss(), loops.workers())
                .channel(loops.serverChannelClass())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ChannelPipeline p = ch.pipeline();
                        if (tls != null) {
                            p.addLast(tls.newHandler(ch.alloc()));
                        }
                        p.addLast(new IdleStateHandler(0, 0, IDLE_SECONDS, TimeUnit.SECONDS));
                        p.addLast(new HttpServerCodec(4096, 8192, 8192));
                        p.addLast(new AuthHandler(access));
                        p.addLast(new BodyLimit(MAX_BODY));
                        p.addLast(new AdminHandler(api));
                    }
                })
                .bind(host, port)
                .addListener(f -> {
                    if (f.isSuccess()) {
                        Channel ch = ((io.netty.channel.ChannelFuture) f).channel();
                        channel = ch;
                        result.complete((InetSocketAddress) ch.localAddress());
                    } else {
                        result.completeExceptionally(f.cause());
                    }
                });
        return result;
    }

    /** Stops listening; open admin connections end with the event loops. */
    @Override
    public void close() {
        Channel ch = channel;
        if (ch != null) {
            ch.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }
}
