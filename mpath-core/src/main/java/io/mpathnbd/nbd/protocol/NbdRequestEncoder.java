package io.mpathnbd.nbd.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.EncoderException;
import io.netty.handler.codec.MessageToMessageEncoder;
import java.util.List;

/**
 * Encodes {@link NbdRequest}: the header (compact 28 bytes, or extended 32 bytes once the handshake negotiated them)
 * in its own buffer, then a WRITE's payload passed on retained (never copied). In extended form a WRITE always
 * carries {@link NbdConstants#CMD_FLAG_PAYLOAD_LEN}, which the spec requires and which is the wire's business, not
 * the caller's. A WRITE whose payload size differs from its length field, a payload on any other command, a length
 * that a compact header cannot hold, or an oversized marker is a bug and fails the write with EncoderException:
 * nothing is ever truncated. Stateless, so one instance of each style may serve every channel.
 */
@ChannelHandler.Sharable
public final class NbdRequestEncoder extends MessageToMessageEncoder<NbdRequest> {
    private final boolean extended;

    /** Compact headers. */
    public NbdRequestEncoder() {
        this(false);
    }

    public NbdRequestEncoder(boolean extended) {
        super(NbdRequest.class);
        this.extended = extended;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, NbdRequest request, List<Object> out) {
        ByteBuf payload = request.payload();
        int payloadLength = payload.readableBytes();
        if (request.isOversized()) {
            throw new EncoderException("an oversized request marker is decoder output and cannot be sent");
        }
        boolean write = request.type() == NbdConstants.CMD_WRITE;
        if (write ? payloadLength != request.length() : payloadLength != 0) {
            throw new EncoderException(request + " carries " + payloadLength + " payload bytes");
        }
        int flags = request.flags();
        if ((flags & NbdConstants.CMD_FLAG_PAYLOAD_LEN) != 0 && !(extended && write)) {
            throw new EncoderException(request + ": PAYLOAD_LEN is set by the encoder, on extended WRITEs only");
        }
        ByteBuf header;
        if (extended) {
            header = ctx.alloc().ioBuffer(NbdConstants.EXTENDED_HEADER_LENGTH);
            header.writeInt(NbdConstants.EXTENDED_REQUEST_MAGIC);
            header.writeShort(write ? flags | NbdConstants.CMD_FLAG_PAYLOAD_LEN : flags);
        } else {
            if (Long.compareUnsigned(request.length(), 0xffffffffL) > 0) {
                throw new EncoderException(request + ": the length does not fit a compact header");
            }
            header = ctx.alloc().ioBuffer(NbdConstants.REQUEST_HEADER_LENGTH);
            header.writeInt(NbdConstants.REQUEST_MAGIC);
            header.writeShort(flags);
        }
        header.writeShort(request.type());
        header.writeLong(request.cookie());
        header.writeLong(request.offset());
        if (extended) {
            header.writeLong(request.length());
        } else {
            header.writeInt((int) request.length());
        }
        out.add(header);
        if (payloadLength > 0) {
            out.add(payload.retain());
        }
    }
}
