package io.mpathnbd.server.frontend;

import io.mpathnbd.core.time.Durations;
import io.mpathnbd.nbd.protocol.NbdRequestDecoder;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Bounds how long a request may take to arrive once its first byte has: a client that stops in the middle of a WRITE
 * payload (or of a header) would otherwise hold its connection, and a connection slot, forever. Sits in front of the
 * request decoder and asks it, after each read, whether a request is incomplete. Time during which the gateway
 * itself does not read (backpressure from a slow reply path) does not count against the client.
 *
 * <p>No allocation per request: one timer per connection is armed when a partial request appears and no timer is
 * armed; when it fires it re-arms for the partial request's remaining time, or disarms if none is pending.
 */
final class PayloadDeadline extends ChannelInboundHandlerAdapter {
    private final ClientConnection conn;
    private final NbdRequestDecoder decoder;
    private final long timeoutNanos;
    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> timer;
    /** When the incomplete request's first byte arrived (or reading resumed); valid while {@link #pending}. */
    private long since;
    private boolean pending;

    PayloadDeadline(ClientConnection conn, NbdRequestDecoder decoder, long timeoutNanos) {
        this.conn = conn;
        this.decoder = decoder;
        this.timeoutNanos = timeoutNanos;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        disarm();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        disarm();
        ctx.fireChannelInactive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ctx.fireChannelRead(msg);
        // the decoder has consumed what it could of these bytes
        boolean partial = decoder.partial();
        if (partial && !pending) {
            pending = true;
            since = System.nanoTime();
            if (timer == null) {
                timer = ctx.executor().schedule(this::check, timeoutNanos, TimeUnit.NANOSECONDS);
            }
        } else if (!partial) {
            pending = false;
        }
    }

    private void check() {
        timer = null;
        if (!pending || !decoder.partial() || !ctx.channel().isActive()) {
            pending = false;
            return;
        }
        long now = System.nanoTime();
        // time we were not reading does not count: the client cannot be blamed for what we did not take
        if (!conn.reading()) {
            since = now;
        } else if (conn.readingResumedNanos() - since > 0) {
            since = conn.readingResumedNanos();
        }
        long left = timeoutNanos - (now - since);
        if (left > 0) {
            timer = ctx.executor().schedule(this::check, left, TimeUnit.NANOSECONDS);
            return;
        }
        conn.protocolError("payload-timeout", "a request has been incomplete for " + Durations.format(timeoutNanos)
                + " (payload-timeout): the client stopped sending in the middle of it");
    }

    private void disarm() {
        pending = false;
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
