package io.mpathnbd.nbd.protocol;

import io.mpathnbd.core.request.Extents;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.EncoderException;
import io.netty.handler.codec.MessageToMessageEncoder;
import java.util.List;

/**
 * Encodes transmission replies: {@link NbdSimpleReply} and every {@link NbdChunk} subclass, chunks with the 20-byte
 * structured header or, once extended headers are negotiated, the 32-byte extended one (which echoes the request's
 * offset, {@link NbdChunk#requestOffset()}, and has a u64 length). With extended headers a simple reply is a bug
 * (the spec forbids them) and fails the write. Headers and small fixed payloads go in one small buffer; READ data and
 * OFFSET_DATA data are passed on retained after it, never copied. Stateless, so one instance of each style may serve
 * every channel.
 */
@ChannelHandler.Sharable
public final class NbdReplyEncoder extends MessageToMessageEncoder<Object> {
    private final boolean extended;

    /** Simple replies and structured chunks. */
    public NbdReplyEncoder() {
        this(false);
    }

    public NbdReplyEncoder(boolean extended) {
        super(Object.class);
        this.extended = extended;
    }

    @Override
    public boolean acceptOutboundMessage(Object msg) {
        return msg instanceof NbdSimpleReply || msg instanceof NbdChunk;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Object msg, List<Object> out) {
        if (msg instanceof NbdSimpleReply) {
            if (extended) {
                throw new EncoderException("a simple reply cannot be sent once extended headers are negotiated");
            }
            NbdSimpleReply reply = (NbdSimpleReply) msg;
            ByteBuf header = ctx.alloc().ioBuffer(NbdConstants.SIMPLE_REPLY_HEADER_LENGTH);
            header.writeInt(NbdConstants.SIMPLE_REPLY_MAGIC);
            header.writeInt(reply.error());
            header.writeLong(reply.cookie());
            out.add(header);
            addData(reply.data(), out);
            return;
        }
        NbdChunk chunk = (NbdChunk) msg;
        if (chunk instanceof NbdOffsetDataChunk) {
            NbdOffsetDataChunk data = (NbdOffsetDataChunk) chunk;
            ByteBuf header = chunkHeader(ctx, chunk, 8);
            header.writeLong(data.offset());
            out.add(header);
            addData(data.data(), out);
        } else if (chunk instanceof NbdOffsetHoleChunk) {
            NbdOffsetHoleChunk hole = (NbdOffsetHoleChunk) chunk;
            ByteBuf b = chunkHeader(ctx, chunk, 12);
            b.writeLong(hole.offset());
            b.writeInt(hole.holeSize());
            out.add(b);
        } else if (chunk instanceof NbdBlockStatusChunk) {
            NbdBlockStatusChunk status = (NbdBlockStatusChunk) chunk;
            Extents extents = status.extents();
            if (status.isExtended() && !extended) {
                throw new EncoderException("BLOCK_STATUS_EXT needs extended headers");
            }
            ByteBuf b = chunkHeader(ctx, chunk, chunk.payloadLength());
            b.writeInt(status.contextId());
            if (status.isExtended()) {
                b.writeInt(extents.count());
                for (int i = 0; i < extents.count(); i++) {
                    b.writeLong(Integer.toUnsignedLong(extents.length(i)));
                    b.writeInt(0);
                    b.writeInt(extents.flags(i));
                }
            } else {
                for (int i = 0; i < extents.count(); i++) {
                    b.writeInt(extents.length(i));
                    b.writeInt(extents.flags(i));
                }
            }
            out.add(b);
        } else if (chunk instanceof NbdErrorChunk) {
            NbdErrorChunk error = (NbdErrorChunk) chunk;
            ByteBuf b = chunkHeader(ctx, chunk, chunk.payloadLength());
            b.writeInt(error.error());
            b.writeShort(error.messageLength());
            ByteBufUtil.writeUtf8(b, error.message());
            if (error.hasOffset()) {
                b.writeLong(error.offset());
            }
            out.add(b);
        } else if (chunk instanceof NbdNoneChunk) {
            out.add(chunkHeader(ctx, chunk, 0));
        } else {
            // NbdUnknownChunk or a future subclass: the content is the raw payload
            out.add(chunkHeader(ctx, chunk, 0));
            addData(chunk.content(), out);
        }
    }

    /** A buffer holding the chunk header (20 or 32 bytes) with room for {@code inline} more bytes after it. */
    private ByteBuf chunkHeader(ChannelHandlerContext ctx, NbdChunk chunk, int inline) {
        if (extended) {
            ByteBuf b = ctx.alloc().ioBuffer(NbdConstants.EXTENDED_HEADER_LENGTH + inline);
            b.writeInt(NbdConstants.EXTENDED_REPLY_MAGIC);
            b.writeShort(chunk.flags());
            b.writeShort(chunk.type());
            b.writeLong(chunk.cookie());
            b.writeLong(chunk.requestOffset());
            b.writeLong(Integer.toUnsignedLong(chunk.payloadLength()));
            return b;
        }
        ByteBuf b = ctx.alloc().ioBuffer(NbdConstants.STRUCTURED_REPLY_HEADER_LENGTH + inline);
        b.writeInt(NbdConstants.STRUCTURED_REPLY_MAGIC);
        b.writeShort(chunk.flags());
        b.writeShort(chunk.type());
        b.writeLong(chunk.cookie());
        b.writeInt(chunk.payloadLength());
        return b;
    }

    private static void addData(ByteBuf data, List<Object> out) {
        if (data.isReadable()) {
            out.add(data.retain());
        }
    }
}
