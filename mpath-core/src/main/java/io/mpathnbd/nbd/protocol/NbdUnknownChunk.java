package io.mpathnbd.nbd.protocol;

import io.netty.buffer.ByteBuf;

/** A chunk type this codec does not interpret (decoded from a server), carried raw. */
public final class NbdUnknownChunk extends NbdChunk {
    public NbdUnknownChunk(int flags, int type, long cookie, ByteBuf payload) {
        super(flags, type, cookie, payload);
    }

    @Override
    public int payloadLength() {
        return content().readableBytes();
    }
}
