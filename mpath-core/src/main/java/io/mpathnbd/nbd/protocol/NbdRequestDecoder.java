package io.mpathnbd.nbd.protocol;

import io.mpathnbd.core.buffer.PayloadCollector;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Decodes transmission requests ({@link NbdRequest}). A WRITE payload is gathered as it arrives by a
 * {@link PayloadCollector}: a retained slice of the receive buffer, or a composite of slices when it spans several,
 * never a copy of a large piece; the cumulation never has to hold (and re-copy) a whole request. A WRITE longer than
 * {@code maxPayload} has its payload skipped as it arrives (never buffered); once it has gone by, an
 * {@link NbdRequest#isOversized()} request with the received header and an empty payload is emitted, so the handler
 * can answer an error and keep the connection. A bad request magic throws {@link NbdProtocolException} and
 * everything after it is discarded: the stream cannot be resynchronised.
 */
public final class NbdRequestDecoder extends ByteToMessageDecoder {
    private enum State { HEADER, PAYLOAD, SKIP_PAYLOAD, FAILED }

    private final int maxPayload;
    private State state = State.HEADER;
    // header of the WRITE whose payload is awaited or skipped
    private int flags;
    private long cookie;
    private long offset;
    private int length;
    private long toSkip;
    /** The header being received. Heap, not pooled: it lives as long as the decoder. */
    private final ByteBuf header = Unpooled.wrappedBuffer(new byte[NbdConstants.REQUEST_HEADER_LENGTH]).clear();
    private final PayloadCollector payload = new PayloadCollector();

    public NbdRequestDecoder(int maxPayload) {
        if (maxPayload < 0) {
            throw new IllegalArgumentException("maxPayload < 0: " + maxPayload);
        }
        this.maxPayload = maxPayload;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (true) {
            switch (state) {
                case HEADER:
                    if (!fillHeader(in)) {
                        return;
                    }
                    int magic = header.getInt(0);
                    if (magic != NbdConstants.REQUEST_MAGIC) {
                        state = State.FAILED;
                        in.skipBytes(in.readableBytes());
                        throw new NbdProtocolException("bad request magic 0x" + Integer.toHexString(magic));
                    }
                    int f = header.getUnsignedShort(4);
                    int type = header.getUnsignedShort(6);
                    long c = header.getLong(8);
                    long o = header.getLong(16);
                    int len = header.getInt(24);
                    header.clear();
                    if (type != NbdConstants.CMD_WRITE || len == 0) {
                        out.add(new NbdRequest(f, type, c, o, len));
                        return;
                    }
                    flags = f;
                    cookie = c;
                    offset = o;
                    length = len;
                    if (Integer.toUnsignedLong(len) > maxPayload) {
                        toSkip = Integer.toUnsignedLong(len);
                        state = State.SKIP_PAYLOAD;
                    } else {
                        payload.start(len);
                        state = State.PAYLOAD;
                    }
                    break;
                case PAYLOAD:
                    if (!payload.take(ctx.alloc(), in)) {
                        return;
                    }
                    state = State.HEADER;
                    out.add(new NbdRequest(flags, NbdConstants.CMD_WRITE, cookie, offset, length,
                            payload.finish(ctx.alloc())));
                    return;
                case SKIP_PAYLOAD:
                    int skip = (int) Math.min(toSkip, in.readableBytes());
                    in.skipBytes(skip);
                    toSkip -= skip;
                    if (toSkip > 0) {
                        return;
                    }
                    state = State.HEADER;
                    out.add(NbdRequest.oversized(flags, NbdConstants.CMD_WRITE, cookie, offset, length));
                    return;
                case FAILED:
                default:
                    in.skipBytes(in.readableBytes());
                    return;
            }
        }
    }

    /** True while part of a request (header or WRITE payload) has arrived and the rest has not. */
    public boolean partial() {
        return state == State.PAYLOAD || state == State.SKIP_PAYLOAD
                || (state == State.HEADER && header.writerIndex() > 0);
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        payload.discard();
    }

    /**
     * Moves the request header out of {@code in} into {@link #header}; false while it is incomplete ({@code in} is
     * drained). A header split between receive buffers thus never makes the cumulation merge (copy) the next one.
     */
    private boolean fillHeader(ByteBuf in) {
        int missing = NbdConstants.REQUEST_HEADER_LENGTH - header.writerIndex();
        int n = Math.min(missing, in.readableBytes());
        in.readBytes(header, n);
        return n == missing;
    }
}
