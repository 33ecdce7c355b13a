package io.mpathnbd.server.admin;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.List;

/**
 * Between the HTTP codec and the body aggregator: asks {@link AdminAccess} about each request head, and answers a
 * refused one at once, dropping its body unread. A refused request that came with a body ends the connection after
 * the answer: the client may still be sending, or waiting for a 100 Continue that will not come.
 */
final class AuthHandler extends ChannelInboundHandlerAdapter {
    private final AdminAccess access;
    /** Dropping the content of a refused request, up to its last part. */
    private boolean discarding;

    AuthHandler(AdminAccess access) {
        this.access = access;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest req && req.decoderResult().isSuccess()) {
            AdminResponse refusal = access.check(req.method(), segments(req.uri()),
                    req.headers().get(HttpHeaderNames.AUTHORIZATION), String.valueOf(ctx.channel().remoteAddress()));
            if (refusal != null) {
                boolean body = HttpUtil.isTransferEncodingChunked(req) || HttpUtil.getContentLength(req, 0L) > 0;
                boolean keepAlive = HttpUtil.isKeepAlive(req) && !body;
                boolean head = req.method().equals(HttpMethod.HEAD);
                discarding = !(msg instanceof LastHttpContent);
                ReferenceCountUtil.release(msg);
                AdminHandler.write(ctx, refusal, keepAlive, head);
                return;
            }
        } else if (discarding && msg instanceof HttpContent) {
            discarding = !(msg instanceof LastHttpContent);
            ReferenceCountUtil.release(msg);
            return;
        }
        ctx.fireChannelRead(msg);
    }

    /** The path as the router decodes it, or null when it cannot be decoded (the router then answers 400). */
    private static List<String> segments(String uri) {
        try {
            return AdminHandler.segments(uri);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
