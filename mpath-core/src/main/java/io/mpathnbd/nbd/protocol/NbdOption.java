package io.mpathnbd.nbd.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import io.netty.buffer.Unpooled;

/** A handshake option request (client to server): IHAVEOPT, u32 option, u32 length, data. */
public final class NbdOption extends DefaultByteBufHolder {
    private final int option;

    public NbdOption(int option, ByteBuf data) {
        super(data == null ? Unpooled.EMPTY_BUFFER : data);
        this.option = option;
    }

    public int option() {
        return option;
    }

    public ByteBuf data() {
        return content();
    }

    @Override
    public NbdOption replace(ByteBuf content) {
        return new NbdOption(option, content);
    }

    @Override
    public String toString() {
        return "NbdOption[" + NbdConstants.optionName(option) + " len=" + content().readableBytes() + "]";
    }
}
