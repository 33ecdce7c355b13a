package io.mpathnbd.nbd.protocol;

import io.mpathnbd.core.buffer.PayloadCollector;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Decodes transmission requests ({@link NbdRequest}) in the header style the handshake settled on: compact (28 bytes,
 * u32 length, a payload only on WRITE) or extended (32 bytes, u64 length, a payload on WRITE and whenever
 * {@link NbdConstants#CMD_FLAG_PAYLOAD_LEN} is set). A WRITE payload is gathered as it arrives by a
 * {@link PayloadCollector}: a retained slice of the receive buffer, or a composite of slices when it spans several,
 * never a copy of a large piece; the cumulation never has to hold (and re-copy) a whole request.
 *
 * <p>What does not fit, and what the handler is told:
 * <ul>
 * <li>compact WRITE longer than {@code maxPayload}: the payload is skipped as it arrives (never buffered), then an
 * {@link NbdRequest#isOversized()} request with the received header and an empty payload is emitted, so the handler
 * can answer an error and keep the connection;</li>
 * <li>extended payload on a command other than WRITE (no extension payload form is implemented): the payload is
 * consumed and dropped, and the request is emitted with PAYLOAD_LEN still in its flags, for the handler's EINVAL
 * (the spec: consume it gracefully, fail the command);</li>
 * <li>extended WRITE without PAYLOAD_LEN: the spec says the client MUST set the flag, but qemu 10's client does not,
 * and qemu's own server takes the length as the payload length anyway ("noncompliant, but proceed"); so does this
 * decoder, the only reading under which such a stream stays in step;</li>
 * <li>extended payload longer than {@code maxPayload}, or a request magic other than the negotiated style's: throws
 * {@link NbdProtocolException} and discards everything after it (the spec lets the server disconnect; a payload
 * length of up to 2^64 is not waited out, and a wrong header style cannot be resynchronised).</li>
 * </ul>
 */
public final class NbdRequestDecoder extends ByteToMessageDecoder {
    private enum State { HEADER, PAYLOAD, SKIP_PAYLOAD, FAILED }

    private final int maxPayload;
    private final boolean extended;
    private final int headerLength;
    private final int magic;
    private State state = State.HEADER;
    // header of the request whose payload is awaited or skipped
    private int flags;
    private int type;
    private long cookie;
    private long offset;
    private long length;
    private long toSkip;
    /** The header being received. Heap, not pooled: it lives as long as the decoder. */
    private final ByteBuf header;
    private final PayloadCollector payload = new PayloadCollector();

    /** A decoder of compact headers: a client that did not negotiate extended headers. */
    public NbdRequestDecoder(int maxPayload) {
        this(maxPayload, false);
    }

    public NbdRequestDecoder(int maxPayload, boolean extended) {
        if (maxPayload < 0) {
            throw new IllegalArgumentException("maxPayload < 0: " + maxPayload);
        }
        this.maxPayload = maxPayload;
        this.extended = extended;
        this.headerLength = extended ? NbdConstants.EXTENDED_HEADER_LENGTH : NbdConstants.REQUEST_HEADER_LENGTH;
        this.magic = extended ? NbdConstants.EXTENDED_REQUEST_MAGIC : NbdConstants.REQUEST_MAGIC;
        this.header = Unpooled.wrappedBuffer(new byte[headerLength]).clear();
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (true) {
            switch (state) {
                case HEADER:
                    // the magic is checked first: a compact header is shorter than an extended one, and one sent
                    // after extended headers were negotiated must not leave the decoder waiting for more
                    if (!fillHeader(in, 4)) {
                        return;
                    }
                    int m = header.getInt(0);
                    if (m != magic) {
                        throw fail(in, badMagic(m));
                    }
                    if (!fillHeader(in, headerLength)) {
                        return;
                    }
                    int f = header.getUnsignedShort(4);
                    int t = header.getUnsignedShort(6);
                    long c = header.getLong(8);
                    long o = header.getLong(16);
                    long len = extended ? header.getLong(24) : header.getUnsignedInt(24);
                    header.clear();
                    boolean hasPayload = len != 0 && (t == NbdConstants.CMD_WRITE
                            || extended && (f & NbdConstants.CMD_FLAG_PAYLOAD_LEN) != 0);
                    if (!hasPayload) {
                        out.add(new NbdRequest(f, t, c, o, len));
                        return;
                    }
                    flags = f;
                    type = t;
                    cookie = c;
                    offset = o;
                    length = len;
                    if (Long.compareUnsigned(len, maxPayload) > 0) {
                        if (extended) {
                            throw fail(in, NbdConstants.commandName(t) + " payload of " + Long.toUnsignedString(len)
                                    + " bytes exceeds the maximum of " + maxPayload);
                        }
                        toSkip = len;
                        state = State.SKIP_PAYLOAD;
                    } else if (t == NbdConstants.CMD_WRITE) {
                        payload.start((int) len);
                        state = State.PAYLOAD;
                    } else {
                        toSkip = len;
                        state = State.SKIP_PAYLOAD;
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
                    // an extended non-WRITE payload within the limit is not "oversized": its flags say what is wrong
                    out.add(type == NbdConstants.CMD_WRITE && Long.compareUnsigned(length, maxPayload) > 0
                            ? NbdRequest.oversized(flags, type, cookie, offset, length)
                            : new NbdRequest(flags, type, cookie, offset, length));
                    return;
                case FAILED:
                default:
                    in.skipBytes(in.readableBytes());
                    return;
            }
        }
    }

    /** True while part of a request (header or payload) has arrived and the rest has not. */
    public boolean partial() {
        return state == State.PAYLOAD || state == State.SKIP_PAYLOAD
                || (state == State.HEADER && header.writerIndex() > 0);
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        payload.discard();
    }

    private String badMagic(int m) {
        if (m == NbdConstants.EXTENDED_REQUEST_MAGIC) {
            return "extended request header, but extended headers were not negotiated";
        }
        if (m == NbdConstants.REQUEST_MAGIC) {
            return "compact request header after extended headers were negotiated";
        }
        return "bad request magic 0x" + Integer.toHexString(m);
    }

    private NbdProtocolException fail(ByteBuf in, String message) {
        state = State.FAILED;
        in.skipBytes(in.readableBytes());
        return new NbdProtocolException(message);
    }

    /**
     * Moves the request header's first {@code need} bytes out of {@code in} into {@link #header}; false while they are
     * incomplete ({@code in} is drained). A header split between receive buffers thus never makes the cumulation merge (copy) the next one.
     */
    private boolean fillHeader(ByteBuf in, int need) {
        int missing = need - header.writerIndex();
        if (missing <= 0) {
            return true;
        }
        int n = Math.min(missing, in.readableBytes());
        in.readBytes(header, n);
        return n == missing;
    }
}
