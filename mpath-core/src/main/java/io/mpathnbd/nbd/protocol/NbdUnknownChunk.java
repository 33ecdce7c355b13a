package io.mpathnbd.nbd.protocol;

import io.netty.buffer.ByteBuf;

/**
 * A chunk type this codec does not interpret (decoded from a server), carried raw. The spec's rule for the receiver:
 * an unknown type with bit 15 set ({@link #isError()}) makes its reply failed with {@link #errorValue()} and the
 * connection may go on (the decoder has already checked that its message length fits); any other unknown type
 * requires a hard disconnect.
 */
public final class NbdUnknownChunk extends NbdChunk {
    public NbdUnknownChunk(int flags, int type, long cookie, ByteBuf payload) {
        super(flags, type, cookie, payload);
    }

    /** For an error type: the u32 error every error chunk starts with (the decoder checked it is there); else 0. */
    public int errorValue() {
        ByteBuf p = content();
        return isError() && p.readableBytes() >= 4 ? p.getInt(p.readerIndex()) : 0;
    }

    @Override
    public int payloadLength() {
        return content().readableBytes();
    }
}
