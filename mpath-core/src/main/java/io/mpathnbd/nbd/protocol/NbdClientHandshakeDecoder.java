package io.mpathnbd.nbd.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Client side of the handshake: decodes the server's greeting ({@link NbdServerGreeting}), then option replies
 * ({@link NbdOptionReply}, data as a retained slice), and after {@link #expectExportNameReply(boolean)} the answer to
 * EXPORT_NAME ({@link NbdExportNameReply}). After the ACK that ends a GO, or after the EXPORT_NAME answer, the
 * handshake is over: the decoder consumes nothing more, so whatever follows stays buffered until the owner replaces
 * this decoder with {@link NbdReplyDecoder} (ByteToMessageDecoder hands the leftover bytes on when it is removed).
 * Bad magics, an oldstyle server and replies longer than {@code maxReplyLength} throw {@link NbdProtocolException}.
 */
public final class NbdClientHandshakeDecoder extends ByteToMessageDecoder {
    /** The oldstyle negotiation's second magic ("cliserv_magic"): not supported, named in the error for clarity. */
    private static final long OLDSTYLE_MAGIC = 0x00420281861253L;
    private static final int GREETING_LENGTH = 18;
    private static final int REPLY_HEADER_LENGTH = 20;
    private static final int EXPORT_NAME_REPLY_LENGTH = 10;
    private static final int EXPORT_NAME_ZEROES = 124;

    private enum State { GREETING, REPLY_HEADER, REPLY_DATA, EXPORT_NAME_REPLY, DONE, FAILED }

    private final int maxReplyLength;
    private State state = State.GREETING;
    private boolean exportNameExpected;
    private boolean noZeroes;
    private int option;
    private int replyType;
    private int replyLength;

    public NbdClientHandshakeDecoder(int maxReplyLength) {
        if (maxReplyLength < 0) {
            throw new IllegalArgumentException("maxReplyLength < 0: " + maxReplyLength);
        }
        this.maxReplyLength = maxReplyLength;
    }

    /**
     * The next thing the server sends answers EXPORT_NAME (u64 size, u16 flags, 124 zero bytes unless
     * {@code noZeroes}, i.e. both sides set NO_ZEROES). Call it on the channel's event loop before writing the option.
     */
    public void expectExportNameReply(boolean noZeroes) {
        this.exportNameExpected = true;
        this.noZeroes = noZeroes;
        if (state == State.REPLY_HEADER) {
            state = State.EXPORT_NAME_REPLY;
        }
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (true) {
            switch (state) {
                case GREETING:
                    if (in.readableBytes() < GREETING_LENGTH) {
                        return;
                    }
                    long magic = in.getLong(in.readerIndex());
                    if (magic != NbdConstants.NBDMAGIC) {
                        throw fail(in, "not an NBD server: bad magic 0x" + Long.toHexString(magic));
                    }
                    long style = in.getLong(in.readerIndex() + 8);
                    if (style == OLDSTYLE_MAGIC) {
                        throw fail(in, "the server uses oldstyle negotiation, which is not supported");
                    }
                    if (style != NbdConstants.IHAVEOPT) {
                        throw fail(in, "bad newstyle magic 0x" + Long.toHexString(style));
                    }
                    in.skipBytes(16);
                    state = exportNameExpected ? State.EXPORT_NAME_REPLY : State.REPLY_HEADER;
                    out.add(new NbdServerGreeting(in.readUnsignedShort()));
                    return;
                case REPLY_HEADER:
                    if (in.readableBytes() < REPLY_HEADER_LENGTH) {
                        return;
                    }
                    long replyMagic = in.getLong(in.readerIndex());
                    if (replyMagic != NbdConstants.OPTION_REPLY_MAGIC) {
                        throw fail(in, "bad option reply magic 0x" + Long.toHexString(replyMagic));
                    }
                    long length = in.getUnsignedInt(in.readerIndex() + 16);
                    if (length > maxReplyLength) {
                        throw fail(in, "option reply of " + length + " bytes exceeds the limit of " + maxReplyLength);
                    }
                    in.skipBytes(8);
                    option = in.readInt();
                    replyType = in.readInt();
                    in.skipBytes(4);
                    replyLength = (int) length;
                    state = State.REPLY_DATA;
                    break;
                case REPLY_DATA:
                    if (in.readableBytes() < replyLength) {
                        return;
                    }
                    boolean transmissionStarts = option == NbdConstants.OPT_GO && replyType == NbdConstants.REP_ACK;
                    state = transmissionStarts ? State.DONE : State.REPLY_HEADER;
                    out.add(new NbdOptionReply(option, replyType,
                            replyLength == 0 ? null : in.readRetainedSlice(replyLength)));
                    return;
                case EXPORT_NAME_REPLY:
                    int need = EXPORT_NAME_REPLY_LENGTH + (noZeroes ? 0 : EXPORT_NAME_ZEROES);
                    if (in.readableBytes() < need) {
                        return;
                    }
                    long size = in.readLong();
                    int flags = in.readUnsignedShort();
                    in.skipBytes(need - EXPORT_NAME_REPLY_LENGTH);
                    state = State.DONE;
                    out.add(new NbdExportNameReply(size, flags, noZeroes));
                    return;
                case DONE:
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
