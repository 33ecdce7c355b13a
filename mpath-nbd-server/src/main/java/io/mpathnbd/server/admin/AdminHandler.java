package io.mpathnbd.server.admin;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.IdleStateEvent;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** HTTP plumbing of the admin API: decodes the request line, hands it to {@link AdminApi}, writes the answer. */
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger LOG = LoggerFactory.getLogger(AdminHandler.class);

    private final AdminApi api;

    AdminHandler(AdminApi api) {
        this.api = api;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        if (req.decoderResult().isFailure()) {
            write(ctx, AdminResponse.error(HttpResponseStatus.BAD_REQUEST, "malformed HTTP request: "
                    + req.decoderResult().cause().getMessage()), false, false);
            return;
        }
        List<String> segments;
        try {
            segments = segments(req.uri());
        } catch (IllegalArgumentException e) {
            write(ctx, AdminResponse.error(HttpResponseStatus.BAD_REQUEST, "malformed request path: "
                    + e.getMessage()), keepAlive, false);
            return;
        }
        byte[] body = ByteBufUtil.getBytes(req.content());
        HttpMethod method = req.method();
        boolean head = method.equals(HttpMethod.HEAD);
        api.handle(new AdminRequest(head ? HttpMethod.GET : method, segments,
                        req.headers().get(HttpHeaderNames.CONTENT_TYPE), body,
                        String.valueOf(ctx.channel().remoteAddress())))
                .whenComplete((r, err) -> {
                    AdminResponse answer = err == null ? r : AdminResponse.error(
                            HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error: " + err);
                    if (ctx.executor().inEventLoop()) {
                        write(ctx, answer, keepAlive, head);
                    } else {
                        ctx.executor().execute(() -> write(ctx, answer, keepAlive, head));
                    }
                });
    }

    /**
     * The path of a request URI as segments, each percent-decoded once after splitting: an encoded '/' stays inside
     * its segment, and "%2530" is the id "%30", not "0".
     *
     * @throws IllegalArgumentException for a malformed escape
     */
    static List<String> segments(String uri) {
        List<String> out = new ArrayList<>();
        for (String s : new QueryStringDecoder(uri).rawPath().split("/")) {
            if (!s.isEmpty()) {
                out.add(QueryStringDecoder.decodeComponent(s));
            }
        }
        return out;
    }

    static void write(ChannelHandlerContext ctx, AdminResponse r, boolean keepAlive, boolean head) {
        FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, r.status(),
                head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(r.body()));
        r.headers().forEach((name, value) -> resp.headers().set(name, value));
        resp.headers().set(HttpHeaderNames.CONTENT_TYPE, r.contentType());
        resp.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.body().length);
        resp.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        if (keepAlive) {
            resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(resp);
        } else {
            resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(resp).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof IdleStateEvent) {
            ctx.close();
        } else {
            super.userEventTriggered(ctx, evt);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("admin connection {}: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
