package io.mpathnbd.nbd.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import io.netty.buffer.Unpooled;

/**
 * A transmission-phase request (client to server), from a compact or an extended header. Holds the WRITE payload (a
 * slice of the receive buffer, not a copy); every other command holds an empty buffer. Release it when done, as any ByteBufHolder.
 */
public final class NbdRequest extends DefaultByteBufHolder {
    private final int flags;
    private final int type;
    private final long cookie;
    private final long offset;
    private final long length;
    private final boolean oversized;

    public NbdRequest(int flags, int type, long cookie, long offset, long length, ByteBuf payload) {
        this(flags, type, cookie, offset, length, payload, false);
    }

    private NbdRequest(int flags, int type, long cookie, long offset, long length, ByteBuf payload,
            boolean oversized) {
        super(payload == null ? Unpooled.EMPTY_BUFFER : payload);
        this.flags = flags;
        this.type = type;
        this.cookie = cookie;
        this.offset = offset;
        this.length = length;
        this.oversized = oversized;
    }

    /**
     * The marker for a request whose payload exceeded the decoder's limit: the payload was skipped unread, the header
     * fields are as received (length is the declared length) and the payload is empty. The handler answers an error.
     */
    public static NbdRequest oversized(int flags, int type, long cookie, long offset, long length) {
        return new NbdRequest(flags, type, cookie, offset, length, null, true);
    }

    /** The payload was longer than allowed and was skipped; {@link #payload()} is empty. */
    public boolean isOversized() {
        return oversized;
    }

    public NbdRequest(int flags, int type, long cookie, long offset, long length) {
        this(flags, type, cookie, offset, length, null);
    }

    /** Command flags (u16). */
    public int flags() {
        return flags;
    }

    /** Command type (u16). */
    public int type() {
        return type;
    }

    public long cookie() {
        return cookie;
    }

    /** Offset (u64; negative values mean offsets past 2^63, always invalid for a disk). */
    public long offset() {
        return offset;
    }

    /**
     * Length field, unsigned: u32 in a compact header, u64 in an extended one (compare with
     * {@link Long#compareUnsigned}). With extended headers it is the payload length when
     * {@link NbdConstants#CMD_FLAG_PAYLOAD_LEN} is set, else the effect length.
     */
    public long length() {
        return length;
    }

    public ByteBuf payload() {
        return content();
    }

    @Override
    public NbdRequest replace(ByteBuf content) {
        return new NbdRequest(flags, type, cookie, offset, length, content, oversized);
    }

    @Override
    public NbdRequest retain() {
        super.retain();
        return this;
    }

    @Override
    public NbdRequest retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public NbdRequest touch() {
        super.touch();
        return this;
    }

    @Override
    public NbdRequest touch(Object hint) {
        super.touch(hint);
        return this;
    }

    @Override
    public String toString() {
        return "NbdRequest[" + NbdConstants.commandName(type) + " flags=" + flags + " cookie="
                + Long.toUnsignedString(cookie) + " offset=" + Long.toUnsignedString(offset) + " length="
                + Long.toUnsignedString(length) + (oversized ? " oversized" : "") + "]";
    }
}
