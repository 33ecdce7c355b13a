package io.mpathnbd.server.admin;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;

/** Gathers a request body of at most {@code max} bytes; a larger one gets a JSON 413 like every other refusal. */
final class BodyLimit extends HttpObjectAggregator {
    private final int max;

    BodyLimit(int max) {
        super(max);
        this.max = max;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        // the aggregator releases the message; the rest of the body may still come, so the connection ends
        AdminHandler.write(ctx, AdminResponse.error(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
                "request body larger than " + max / 1024 + " KiB: admin requests are small JSON objects"),
                false, false);
    }
}
