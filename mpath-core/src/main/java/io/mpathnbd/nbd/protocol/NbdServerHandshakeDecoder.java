package io.mpathnbd.nbd.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Server side of the handshake: decodes the client's u32 flags ({@link NbdClientFlags}), then option requests
 * ({@link NbdOption}, data as a retained slice of the receive buffer). Option data longer than {@code maxOptionLength}
 * is skipped as it arrives and never buffered; once it has all gone by, an option with {@link NbdOption#isTooBig()}
 * is emitted so that the handler's NBD_REP_ERR_TOO_BIG follows the skipped bytes. At most one message is emitted per
 * decode call, so a handler that replaces this decoder on GO or EXPORT_NAME hands the bytes after it to the next one.
 * A bad IHAVEOPT magic throws {@link NbdProtocolException} and everything after it is discarded.
 */
public final class NbdServerHandshakeDecoder extends ByteToMessageDecoder {
    private static final int OPTION_HEADER_LENGTH = 16;

    private enum State { CLIENT_FLAGS, OPTION_HEADER, OPTION_DATA, SKIP_DATA, FAILED }

    private final int maxOptionLength;
    private State state = State.CLIENT_FLAGS;
    private int option;
    private long dataLength;
    private long toSkip;

    public NbdServerHandshakeDecoder(int maxOptionLength) {
        if (maxOptionLength < 0) {
            throw new IllegalArgumentException("maxOptionLength < 0: " + maxOptionLength);
        }
        this.maxOptionLength = maxOptionLength;
    }

    /**
     * Bytes received and not yet decoded. Right after the decoder hands out {@code NBD_OPT_STARTTLS} these are bytes
     * the client sent before the server's answer, which the spec forbids: they are neither plain options nor TLS.
     */
    public int buffered() {
        return actualReadableBytes();
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (true) {
            switch (state) {
                case CLIENT_FLAGS:
                    if (in.readableBytes() < 4) {
                        return;
                    }
                    state = State.OPTION_HEADER;
                    out.add(new NbdClientFlags(in.readInt()));
                    return;
                case OPTION_HEADER:
                    if (in.readableBytes() < OPTION_HEADER_LENGTH) {
                        return;
                    }
                    long magic = in.getLong(in.readerIndex());
                    if (magic != NbdConstants.IHAVEOPT) {
                        throw fail(in, "bad option magic 0x" + Long.toHexString(magic));
                    }
                    in.skipBytes(8);
                    option = in.readInt();
                    dataLength = in.readUnsignedInt();
                    if (dataLength > maxOptionLength) {
                        toSkip = dataLength;
                        state = State.SKIP_DATA;
                    } else if (dataLength == 0) {
                        state = State.OPTION_HEADER;
                        out.add(new NbdOption(option, null));
                        return;
                    } else {
                        state = State.OPTION_DATA;
                    }
                    break;
                case OPTION_DATA:
                    if (in.readableBytes() < dataLength) {
                        return;
                    }
                    state = State.OPTION_HEADER;
                    out.add(new NbdOption(option, in.readRetainedSlice((int) dataLength)));
                    return;
                case SKIP_DATA:
                    int skip = (int) Math.min(toSkip, in.readableBytes());
                    in.skipBytes(skip);
                    toSkip -= skip;
                    if (toSkip > 0) {
                        return;
                    }
                    state = State.OPTION_HEADER;
                    out.add(NbdOption.tooBig(option, dataLength));
                    return;
                case FAILED:
                default:
                    in.skipBytes(in.readableBytes());
                    return;
            }
        }
    }

    private NbdProtocolException fail(ByteBuf in, String message) {
        state = State.FAILED;
        in.skipBytes(in.readableBytes());
        return new NbdProtocolException(message);
    }
}
