package io.mpathnbd.nbd.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.EncoderException;
import io.netty.handler.codec.MessageToMessageEncoder;
import java.util.List;

/**
 * Encodes {@link NbdRequest}: the 28-byte header in its own buffer, then a WRITE's payload passed on retained (never
 * copied). A WRITE whose payload size differs from its length field, a payload on any other command, or an oversized
 * marker is a bug and fails the write with EncoderException. Stateless, so one instance may serve every channel.
 */
@ChannelHandler.Sharable
public final class NbdRequestEncoder extends MessageToMessageEncoder<NbdRequest> {
    public NbdRequestEncoder() {
        super(NbdRequest.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, NbdRequest request, List<Object> out) {
        ByteBuf payload = request.payload();
        int payloadLength = payload.readableBytes();
        if (request.isOversized()) {
            throw new EncoderException("an oversized request marker is decoder output and cannot be sent");
        }
        if (request.type() == NbdConstants.CMD_WRITE ? payloadLength != request.length() : payloadLength != 0) {
            throw new EncoderException(request + " carries " + payloadLength + " payload bytes");
        }
        ByteBuf header = ctx.alloc().ioBuffer(NbdConstants.REQUEST_HEADER_LENGTH);
        header.writeInt(NbdConstants.REQUEST_MAGIC);
        header.writeShort(request.flags());
        header.writeShort(request.type());
        header.writeLong(request.cookie());
        header.writeLong(request.offset());
        header.writeInt(request.length());
        out.add(header);
        if (payloadLength > 0) {
            out.add(payload.retain());
        }
    }
}
