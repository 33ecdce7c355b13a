package io.mpathnbd.nbd.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.EncoderException;
import io.netty.handler.codec.MessageToMessageEncoder;
import java.util.List;

/**
 * Client side of the handshake: encodes {@link NbdClientFlags} (u32) and {@link NbdOption} (IHAVEOPT, option, length,
 * then the data passed on retained). Stateless, so one instance may serve every channel.
 */
@ChannelHandler.Sharable
public final class NbdClientHandshakeEncoder extends MessageToMessageEncoder<Object> {
    private static final int OPTION_HEADER_LENGTH = 16;

    public NbdClientHandshakeEncoder() {
        super(Object.class);
    }

    @Override
    public boolean acceptOutboundMessage(Object msg) {
        return msg instanceof NbdClientFlags || msg instanceof NbdOption;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Object msg, List<Object> out) {
        if (msg instanceof NbdOption) {
            NbdOption option = (NbdOption) msg;
            if (option.isTooBig()) {
                throw new EncoderException("a too-big option marker is decoder output and cannot be sent");
            }
            ByteBuf data = option.data();
            ByteBuf header = ctx.alloc().ioBuffer(OPTION_HEADER_LENGTH);
            header.writeLong(NbdConstants.IHAVEOPT);
            header.writeInt(option.option());
            header.writeInt(data.readableBytes());
            out.add(header);
            if (data.isReadable()) {
                out.add(data.retain());
            }
        } else {
            ByteBuf b = ctx.alloc().ioBuffer(4);
            b.writeInt(((NbdClientFlags) msg).flags());
            out.add(b);
        }
    }
}
