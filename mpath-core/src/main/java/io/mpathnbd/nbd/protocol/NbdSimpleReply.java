package io.mpathnbd.nbd.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import io.netty.buffer.Unpooled;

/** A simple reply: error (0 = success), cookie, then READ data on success. */
public final class NbdSimpleReply extends DefaultByteBufHolder {
    private final int error;
    private final long cookie;

    public NbdSimpleReply(int error, long cookie, ByteBuf data) {
        super(data == null ? Unpooled.EMPTY_BUFFER : data);
        this.error = error;
        this.cookie = cookie;
    }

    public NbdSimpleReply(int error, long cookie) {
        this(error, cookie, null);
    }

    public int error() {
        return error;
    }

    public long cookie() {
        return cookie;
    }

    public ByteBuf data() {
        return content();
    }

    @Override
    public NbdSimpleReply replace(ByteBuf content) {
        return new NbdSimpleReply(error, cookie, content);
    }

    @Override
    public String toString() {
        return "NbdSimpleReply[error=" + error + " cookie=" + Long.toUnsignedString(cookie) + " data="
                + content().readableBytes() + "]";
    }
}
