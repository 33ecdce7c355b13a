package io.mpathnbd.nbd.protocol;

import io.netty.buffer.ByteBuf;

/** OFFSET_DATA: u64 offset, then data. The data buffer is the holder's content. */
public final class NbdOffsetDataChunk extends NbdChunk {
    private final long offset;

    public NbdOffsetDataChunk(int flags, long cookie, long offset, ByteBuf data) {
        super(flags, NbdConstants.REPLY_TYPE_OFFSET_DATA, cookie, data);
        this.offset = offset;
    }

    public long offset() {
        return offset;
    }

    public ByteBuf data() {
        return content();
    }

    @Override
    public int payloadLength() {
        return 8 + content().readableBytes();
    }
}
