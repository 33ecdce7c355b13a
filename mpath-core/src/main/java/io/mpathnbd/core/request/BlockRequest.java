package io.mpathnbd.core.request;

import io.netty.buffer.ByteBuf;

/**
 * One client request on its way through the core. The front end creates it, the export owns it until it calls the
 * {@link ReplySink} once. A WRITE carries its payload as a (usually pooled, sliced) buffer: the request owns one
 * reference and the core releases it when the request completes, whatever the outcome.
 *
 * <p>Backends must not consume that reference: to hand the payload to I/O they take
 * {@code payload().retainedDuplicate()} (or a retained slice), so a retry on another path still has the bytes.
 *
 * <p>The lifecycle fields (attempts, deadline, fence) belong to the core's export and are not for backends.
 */
public final class BlockRequest {
    private final BlockOp op;
    private final int flags;
    private final long offset;
    private final int length;
    private final long cookie;
    private ByteBuf payload;
    private final ReplySink sink;

    // lifecycle, owned by the export
    private int attempts;
    private long startNanos;
    private long deadlineNanos;
    private Object exportState;

    public BlockRequest(BlockOp op, int flags, long offset, int length, long cookie, ByteBuf payload, ReplySink sink) {
        this.op = op;
        this.flags = flags;
        this.offset = offset;
        this.length = length;
        this.cookie = cookie;
        this.payload = payload;
        this.sink = sink;
    }

    public BlockOp op() {
        return op;
    }

    public int flags() {
        return flags;
    }

    public boolean hasFlag(int flag) {
        return (flags & flag) != 0;
    }

    public long offset() {
        return offset;
    }

    public int length() {
        return length;
    }

    /** The client's opaque handle, echoed in the reply. The core never interprets it. */
    public long cookie() {
        return cookie;
    }

    /** WRITE payload (readable bytes == length), or null. */
    public ByteBuf payload() {
        return payload;
    }

    public ReplySink sink() {
        return sink;
    }

    /** Drops the request's payload reference; idempotent. Called by the core once the request is finished. */
    public void releasePayload() {
        ByteBuf p = payload;
        if (p != null) {
            payload = null;
            p.release();
        }
    }

    public int attempts() {
        return attempts;
    }

    public int incrementAttempts() {
        return ++attempts;
    }

    public long startNanos() {
        return startNanos;
    }

    public void startNanos(long nanos) {
        this.startNanos = nanos;
    }

    public long deadlineNanos() {
        return deadlineNanos;
    }

    public void deadlineNanos(long nanos) {
        this.deadlineNanos = nanos;
    }

    /** A slot for the export's own per-request bookkeeping (avoids a side map on the hot path). */
    public Object exportState() {
        return exportState;
    }

    public void exportState(Object state) {
        this.exportState = state;
    }

    @Override
    public String toString() {
        return op + "[off=" + offset + " len=" + length + " flags=" + flags + " cookie=" + Long.toUnsignedString(cookie)
                + "]";
    }
}
