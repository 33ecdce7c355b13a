package io.mpathnbd.nbd.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import io.netty.buffer.Unpooled;

/** One structured reply chunk. Subclasses carry the typed payload; only OFFSET_DATA holds a data buffer. */
public abstract class NbdChunk extends DefaultByteBufHolder {
    private final int flags;
    private final int type;
    private final long cookie;
    /** The request's offset, echoed in an extended reply header; set by whoever builds the reply. */
    private long requestOffset;

    protected NbdChunk(int flags, int type, long cookie, ByteBuf content) {
        super(content == null ? Unpooled.EMPTY_BUFFER : content);
        this.flags = flags;
        this.type = type;
        this.cookie = cookie;
    }

    public int flags() {
        return flags;
    }

    public int type() {
        return type;
    }

    public long cookie() {
        return cookie;
    }

    /** The offset of the request this chunk answers: only extended reply headers carry it. */
    public long requestOffset() {
        return requestOffset;
    }

    /**
     * Sets the offset an extended reply header echoes (the spec: it MUST match the request's), before the chunk is
     * written or after it was decoded. A field rather than a constructor argument of every type, so that compact
     * replies need not name it; returns this chunk.
     */
    public NbdChunk requestOffset(long offset) {
        this.requestOffset = offset;
        return this;
    }

    /** The last chunk of its reply. */
    public boolean isDone() {
        return (flags & NbdConstants.REPLY_FLAG_DONE) != 0;
    }

    /** Error chunk types have bit 15 set. */
    public boolean isError() {
        return (type & (1 << 15)) != 0;
    }

    /** Length of the chunk payload on the wire (after the 20- or 32-byte header). */
    public abstract int payloadLength();

    @Override
    public NbdChunk replace(ByteBuf content) {
        throw new UnsupportedOperationException("chunks are replaced through their own constructors");
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[flags=" + flags + " type=" + type + " cookie="
                + Long.toUnsignedString(cookie) + " len=" + payloadLength() + "]";
    }
}
