package io.mpathnbd.nbd.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Decodes transmission requests ({@link NbdRequest}). A WRITE payload is a retained slice of the receive buffer, not
 * a copy. A WRITE longer than {@code maxPayload} has its payload skipped as it arrives (never buffered); once it has
 * gone by, an {@link NbdRequest#isOversized()} request with the received header and an empty payload is emitted, so the
 * handler can answer an error and keep the connection. A bad request magic throws {@link NbdProtocolException} and
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
                    if (in.readableBytes() < NbdConstants.REQUEST_HEADER_LENGTH) {
                        return;
                    }
                    int magic = in.getInt(in.readerIndex());
                    if (magic != NbdConstants.REQUEST_MAGIC) {
                        state = State.FAILED;
                        in.skipBytes(in.readableBytes());
                        throw new NbdProtocolException("bad request magic 0x" + Integer.toHexString(magic));
                    }
                    in.skipBytes(4);
                    int f = in.readUnsignedShort();
                    int type = in.readUnsignedShort();
                    long c = in.readLong();
                    long o = in.readLong();
                    int len = in.readInt();
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
                        state = State.PAYLOAD;
                    }
                    break;
                case PAYLOAD:
                    if (in.readableBytes() < length) {
                        return;
                    }
                    state = State.HEADER;
                    out.add(new NbdRequest(flags, NbdConstants.CMD_WRITE, cookie, offset, length,
                            in.readRetainedSlice(length)));
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
}
