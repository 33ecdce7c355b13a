package io.mpathnbd.nbd.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;
import java.util.List;

/**
 * Server side of the handshake: encodes {@link NbdServerGreeting}, {@link NbdOptionReply} (header in its own buffer,
 * the data passed on retained) and {@link NbdExportNameReply}. Stateless, so one instance may serve every channel.
 */
@ChannelHandler.Sharable
public final class NbdServerHandshakeEncoder extends MessageToMessageEncoder<Object> {
    private static final int GREETING_LENGTH = 18;
    private static final int OPTION_REPLY_HEADER_LENGTH = 20;

    public NbdServerHandshakeEncoder() {
        super(Object.class);
    }

    @Override
    public boolean acceptOutboundMessage(Object msg) {
        return msg instanceof NbdServerGreeting || msg instanceof NbdOptionReply || msg instanceof NbdExportNameReply;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Object msg, List<Object> out) {
        if (msg instanceof NbdOptionReply) {
            NbdOptionReply reply = (NbdOptionReply) msg;
            ByteBuf data = reply.data();
            ByteBuf header = ctx.alloc().ioBuffer(OPTION_REPLY_HEADER_LENGTH);
            header.writeLong(NbdConstants.OPTION_REPLY_MAGIC);
            header.writeInt(reply.option());
            header.writeInt(reply.replyType());
            header.writeInt(data.readableBytes());
            out.add(header);
            if (data.isReadable()) {
                out.add(data.retain());
            }
        } else if (msg instanceof NbdServerGreeting) {
            ByteBuf b = ctx.alloc().ioBuffer(GREETING_LENGTH);
            b.writeLong(NbdConstants.NBDMAGIC);
            b.writeLong(NbdConstants.IHAVEOPT);
            b.writeShort(((NbdServerGreeting) msg).handshakeFlags());
            out.add(b);
        } else {
            NbdExportNameReply reply = (NbdExportNameReply) msg;
            int zeroes = reply.noZeroes() ? 0 : 124;
            ByteBuf b = ctx.alloc().ioBuffer(10 + zeroes);
            b.writeLong(reply.size());
            b.writeShort(reply.transmissionFlags());
            b.writeZero(zeroes);
            out.add(b);
        }
    }
}
