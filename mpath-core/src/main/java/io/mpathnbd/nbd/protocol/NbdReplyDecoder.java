package io.mpathnbd.nbd.protocol;

import io.mpathnbd.core.buffer.PayloadCollector;
import io.mpathnbd.core.request.Extents;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.Arrays;
import java.util.List;

/**
 * Client side of the transmission phase: decodes simple replies ({@link NbdSimpleReply}) and structured reply chunks
 * ({@link NbdChunk} subclasses). A simple reply does not say how much data follows, so the {@link ReadLengthLookup}
 * is asked for every simple reply: a successful READ carries that many bytes, an unknown cookie is a protocol error.
 * Chunks are checked against the spec (lengths per type, nonzero errors and extent lengths, error message lengths that
 * fit); BLOCK_STATUS becomes {@link Extents}, error messages are decoded leniently and cut at
 * {@link NbdConstants#MAX_STRING} bytes, and other types come out as {@link NbdUnknownChunk} (for one with bit 15 set
 * the error prefix is checked first). A chunk longer than {@code maxPayload} plus {@link #CHUNK_OVERHEAD} is refused
 * before it is buffered. Every violation throws {@link NbdProtocolException} and discards the rest of the stream: the
 * owner must drop the connection.
 *
 * <p>Once extended headers are negotiated ({@code extended}) every reply is a 32-byte extended chunk header (u64
 * length; the request offset it echoes is kept in {@link NbdChunk#requestOffset()}); a simple or structured reply is
 * then a protocol error, and BLOCK_STATUS_EXT (64-bit extents) is accepted besides BLOCK_STATUS. The core asks for at
 * most 2^31 - 1 bytes of status at a time, so a 64-bit extent is cut to 2^32 - 1 bytes and the extents after it,
 * which lie beyond every request, are dropped; the backend then cuts the list at the request's end.
 *
 * <p>READ and OFFSET_DATA data are gathered as they arrive by a {@link PayloadCollector}: retained slices of the
 * receive buffers, never a copy of a large payload, and the cumulation never has to hold (and re-copy) a whole reply.
 */
public final class NbdReplyDecoder extends ByteToMessageDecoder {
    /** Room beyond maxPayload for a chunk's own fields: OFFSET_DATA's offset, an error chunk's longest message. */
    public static final int CHUNK_OVERHEAD = 16 + NbdConstants.MAX_STRING;

    private enum State { MAGIC, READ_DATA, OFFSET_DATA, CHUNK_PAYLOAD, FAILED }

    private final ReadLengthLookup lookup;
    private final int maxPayload;
    private final boolean extended;
    private final int chunkHeaderLength;
    private final long maxChunkLength;
    private State state = State.MAGIC;
    private long cookie;
    private int chunkFlags;
    private int chunkType;
    private int dataLength;
    private long dataOffset;
    private long requestOffset;
    /** The header being received; holds at most a chunk header plus the OFFSET_DATA offset. Heap, not pooled. */
    private final ByteBuf header = Unpooled.wrappedBuffer(new byte[NbdConstants.EXTENDED_HEADER_LENGTH + 8]).clear();
    private final PayloadCollector payload = new PayloadCollector();

    /** Simple and structured replies: a server that did not agree to extended headers. */
    public NbdReplyDecoder(ReadLengthLookup lookup, int maxPayload) {
        this(lookup, maxPayload, false);
    }

    public NbdReplyDecoder(ReadLengthLookup lookup, int maxPayload, boolean extended) {
        if (maxPayload < 0) {
            throw new IllegalArgumentException("maxPayload < 0: " + maxPayload);
        }
        this.lookup = lookup;
        this.maxPayload = maxPayload;
        this.extended = extended;
        this.chunkHeaderLength = extended ? NbdConstants.EXTENDED_HEADER_LENGTH
                : NbdConstants.STRUCTURED_REPLY_HEADER_LENGTH;
        // a buffer cannot hold more than Integer.MAX_VALUE bytes, whatever the limit asked for
        this.maxChunkLength = Math.min((long) maxPayload + CHUNK_OVERHEAD, Integer.MAX_VALUE);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (true) {
            switch (state) {
                case MAGIC:
                    if (!fill(in, 4)) {
                        return;
                    }
                    int magic = header.getInt(0);
                    if (extended != (magic == NbdConstants.EXTENDED_REPLY_MAGIC)) {
                        throw fail(in, extended
                                ? "reply magic 0x" + Integer.toHexString(magic) + " after extended headers were negotiated"
                                : "bad reply magic 0x" + Integer.toHexString(magic));
                    }
                    if (magic == NbdConstants.EXTENDED_REPLY_MAGIC || magic == NbdConstants.STRUCTURED_REPLY_MAGIC) {
                        if (!chunkHeader(in, out)) {
                            return;
                        }
                        if (state == State.MAGIC) {
                            return;
                        }
                    } else if (magic == NbdConstants.SIMPLE_REPLY_MAGIC) {
                        if (!fill(in, NbdConstants.SIMPLE_REPLY_HEADER_LENGTH)) {
                            return;
                        }
                        if (simpleHeader(in, out)) {
                            return;
                        }
                    } else {
                        throw fail(in, "bad reply magic 0x" + Integer.toHexString(magic));
                    }
                    break;
                case READ_DATA:
                    if (!payload.take(ctx.alloc(), in)) {
                        return;
                    }
                    state = State.MAGIC;
                    out.add(new NbdSimpleReply(0, cookie, payload.finish(ctx.alloc())));
                    return;
                case OFFSET_DATA:
                    if (!payload.take(ctx.alloc(), in)) {
                        return;
                    }
                    state = State.MAGIC;
                    out.add(new NbdOffsetDataChunk(chunkFlags, cookie, dataOffset, payload.finish(ctx.alloc()))
                            .requestOffset(requestOffset));
                    return;
                case CHUNK_PAYLOAD:
                    if (in.readableBytes() < dataLength) {
                        return;
                    }
                    state = State.MAGIC;
                    out.add(chunk(in).requestOffset(requestOffset));
                    return;
                case FAILED:
                default:
                    in.skipBytes(in.readableBytes());
                    return;
            }
        }
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        payload.discard();
    }

    /**
     * Makes {@link #header} hold its first {@code need} bytes, moving them out of {@code in}: a header split between
     * two receive buffers then never makes the cumulation merge (copy) the second one. False when they have not all
     * arrived yet ({@code in} is drained).
     */
    private boolean fill(ByteBuf in, int need) {
        int missing = need - header.writerIndex();
        if (missing <= 0) {
            return true;
        }
        int n = Math.min(missing, in.readableBytes());
        in.readBytes(header, n);
        return n == missing;
    }

    /**
     * Handles a complete simple reply header. Returns true when the reply is emitted (no data follows), false when its
     * READ data is awaited next.
     */
    private boolean simpleHeader(ByteBuf in, List<Object> out) {
        int error = header.getInt(4);
        long c = header.getLong(8);
        int expected = lookup.expectedReadLength(c);
        if (expected < 0) {
            throw fail(in, "simple reply for unknown cookie " + Long.toUnsignedString(c));
        }
        if (expected > maxPayload) {
            throw fail(in, "pending READ of " + expected + " bytes exceeds the limit of " + maxPayload);
        }
        header.clear();
        if (error != 0 || expected == 0) {
            out.add(new NbdSimpleReply(error, c));
            return true;
        }
        cookie = c;
        payload.start(expected);
        state = State.READ_DATA;
        return false;
    }

    /**
     * Consumes a chunk header (for OFFSET_DATA including the data offset) if complete, after checking its length
     * against the limit. A chunk without payload is emitted at once.
     */
    private boolean chunkHeader(ByteBuf in, List<Object> out) {
        if (!fill(in, chunkHeaderLength)) {
            return false;
        }
        long length = extended ? header.getLong(24) : header.getUnsignedInt(16);
        if (Long.compareUnsigned(length, maxChunkLength) > 0) {
            throw fail(in, "reply chunk of " + Long.toUnsignedString(length) + " bytes exceeds the limit of "
                    + maxChunkLength);
        }
        chunkFlags = header.getUnsignedShort(4);
        chunkType = header.getUnsignedShort(6);
        cookie = header.getLong(8);
        requestOffset = extended ? header.getLong(16) : 0;
        dataLength = (int) length;
        checkLength(in, dataLength);
        if (chunkType == NbdConstants.REPLY_TYPE_OFFSET_DATA) {
            if (!fill(in, chunkHeaderLength + 8)) {
                return false;
            }
            dataOffset = header.getLong(chunkHeaderLength);
            header.clear();
            payload.start(dataLength - 8);
            state = State.OFFSET_DATA;
            return true;
        }
        header.clear();
        if (dataLength == 0) {
            out.add(chunk(in).requestOffset(requestOffset));
            return true;
        }
        state = State.CHUNK_PAYLOAD;
        return true;
    }

    /** The length each chunk type allows, checked on the header so a bad one is refused before its payload. */
    private void checkLength(ByteBuf in, int len) {
        switch (chunkType) {
            case NbdConstants.REPLY_TYPE_NONE:
                if (len != 0) {
                    throw fail(in, "NONE chunk with " + len + " payload bytes");
                }
                if ((chunkFlags & NbdConstants.REPLY_FLAG_DONE) == 0) {
                    throw fail(in, "NONE chunk without the DONE flag");
                }
                return;
            case NbdConstants.REPLY_TYPE_OFFSET_DATA:
                if (len < 9) {
                    throw fail(in, "OFFSET_DATA chunk of " + len + " bytes, at least 9 are needed");
                }
                return;
            case NbdConstants.REPLY_TYPE_OFFSET_HOLE:
                if (len != 12) {
                    throw fail(in, "OFFSET_HOLE chunk of " + len + " bytes, must be 12");
                }
                return;
            case NbdConstants.REPLY_TYPE_BLOCK_STATUS:
                if (len < 12 || (len - 4) % 8 != 0) {
                    throw fail(in, "BLOCK_STATUS chunk of " + len + " bytes, must be 4 + a positive multiple of 8");
                }
                return;
            case NbdConstants.REPLY_TYPE_BLOCK_STATUS_EXT:
                if (!extended) {
                    throw fail(in, "BLOCK_STATUS_EXT chunk without extended headers");
                }
                if (len < 24 || (len - 8) % 16 != 0) {
                    throw fail(in, "BLOCK_STATUS_EXT chunk of " + len + " bytes, must be 8 + a positive multiple of 16");
                }
                return;
            case NbdConstants.REPLY_TYPE_ERROR_OFFSET:
                if (len < 14) {
                    throw fail(in, "ERROR_OFFSET chunk of " + len + " bytes, at least 14 are needed");
                }
                return;
            default:
                // ERROR and every unknown error type start with u32 error, u16 message length
                if ((chunkType & (1 << 15)) != 0 && len < 6) {
                    throw fail(in, "error chunk type " + chunkType + " of " + len + " bytes, at least 6 are needed");
                }
        }
    }

    /** Decodes the complete payload of the current chunk (dataLength readable bytes, length already checked). */
    private NbdChunk chunk(ByteBuf in) {
        int len = dataLength;
        switch (chunkType) {
            case NbdConstants.REPLY_TYPE_NONE:
                return new NbdNoneChunk(cookie);
            case NbdConstants.REPLY_TYPE_OFFSET_HOLE:
                long holeOffset = in.readLong();
                int holeSize = in.readInt();
                if (holeSize == 0) {
                    throw fail(in, "OFFSET_HOLE chunk with hole size 0");
                }
                return new NbdOffsetHoleChunk(chunkFlags, cookie, holeOffset, holeSize);
            case NbdConstants.REPLY_TYPE_BLOCK_STATUS:
                return blockStatus(in, len);
            case NbdConstants.REPLY_TYPE_BLOCK_STATUS_EXT:
                return blockStatusExt(in, len);
            case NbdConstants.REPLY_TYPE_ERROR:
            case NbdConstants.REPLY_TYPE_ERROR_OFFSET:
                return error(in, len);
            default:
                if ((chunkType & (1 << 15)) != 0) {
                    checkErrorPrefix(in, len, 6);
                }
                return new NbdUnknownChunk(chunkFlags, chunkType, cookie, in.readRetainedSlice(len));
        }
    }

    private NbdChunk blockStatus(ByteBuf in, int len) {
        int contextId = in.readInt();
        int count = (len - 4) / 8;
        int[] lengths = new int[count];
        int[] flags = new int[count];
        for (int i = 0; i < count; i++) {
            lengths[i] = in.readInt();
            flags[i] = in.readInt();
            if (lengths[i] == 0) {
                throw fail(in, "BLOCK_STATUS extent " + i + " has length 0");
            }
        }
        return new NbdBlockStatusChunk(chunkFlags, cookie, contextId, new Extents(lengths, flags));
    }

    private NbdChunk blockStatusExt(ByteBuf in, int len) {
        int contextId = in.readInt();
        int declared = in.readInt();
        int count = (len - 8) / 16;
        if (declared != 0 && declared != count) {
            throw fail(in, "BLOCK_STATUS_EXT declares " + Integer.toUnsignedString(declared) + " descriptors but carries "
                    + count);
        }
        int[] lengths = new int[count];
        int[] flags = new int[count];
        int kept = 0;
        boolean cut = false;
        for (int i = 0; i < count; i++) {
            long length = in.readLong();
            in.skipBytes(4); // padding
            int f = in.readInt();
            if (length == 0) {
                throw fail(in, "BLOCK_STATUS_EXT extent " + i + " has length 0");
            }
            if (cut) {
                continue; // beyond an extent of 4 GiB or more: past any request the core makes
            }
            cut = Long.compareUnsigned(length, 0xffffffffL) > 0;
            lengths[kept] = cut ? -1 : (int) length;
            flags[kept] = f;
            kept++;
        }
        Extents extents = kept == count ? new Extents(lengths, flags)
                : new Extents(Arrays.copyOf(lengths, kept), Arrays.copyOf(flags, kept));
        return new NbdBlockStatusChunk(chunkFlags, cookie, contextId, extents, true);
    }

    private NbdChunk error(ByteBuf in, int len) {
        boolean withOffset = chunkType == NbdConstants.REPLY_TYPE_ERROR_OFFSET;
        int fixed = withOffset ? 14 : 6;
        int messageLength = checkErrorPrefix(in, len, fixed);
        int base = in.readerIndex();
        int error = in.getInt(base);
        String message = NbdStrings.lenient(in, base + 6, messageLength);
        long errorOffset = withOffset ? in.getLong(base + 6 + messageLength) : -1;
        in.skipBytes(len); // fields after the known ones, if a server sends any, are ignored
        return withOffset
                ? new NbdErrorChunk(chunkFlags, cookie, error, message, errorOffset)
                : new NbdErrorChunk(chunkFlags, cookie, error, message);
    }

    /** Every error chunk starts u32 error (nonzero), u16 message length; the message must fit. Returns its length. */
    private int checkErrorPrefix(ByteBuf in, int len, int fixed) {
        int base = in.readerIndex();
        if (in.getInt(base) == 0) {
            throw fail(in, "error chunk type " + chunkType + " with error value 0");
        }
        int messageLength = in.getUnsignedShort(base + 4);
        if (messageLength > len - fixed) {
            throw fail(in, "error chunk message of " + messageLength + " bytes does not fit in " + len);
        }
        return messageLength;
    }

    private NbdProtocolException fail(ByteBuf in, String message) {
        state = State.FAILED;
        payload.discard();
        in.skipBytes(in.readableBytes());
        return new NbdProtocolException(message);
    }
}
