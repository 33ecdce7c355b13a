package io.mpathnbd.nbd.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import io.netty.buffer.Unpooled;

/** A handshake option reply (server to client): magic, u32 option, u32 reply type, u32 length, data. */
public final class NbdOptionReply extends DefaultByteBufHolder {
    private final int option;
    private final int replyType;

    public NbdOptionReply(int option, int replyType, ByteBuf data) {
        super(data == null ? Unpooled.EMPTY_BUFFER : data);
        this.option = option;
        this.replyType = replyType;
    }

    public int option() {
        return option;
    }

    public int replyType() {
        return replyType;
    }

    public boolean isError() {
        return (replyType & NbdConstants.REP_FLAG_ERROR) != 0;
    }

    public ByteBuf data() {
        return content();
    }

    @Override
    public NbdOptionReply replace(ByteBuf content) {
        return new NbdOptionReply(option, replyType, content);
    }

    @Override
    public String toString() {
        return "NbdOptionReply[" + NbdConstants.optionName(option) + " type=" + Integer.toHexString(replyType)
                + " len=" + content().readableBytes() + "]";
    }
}
