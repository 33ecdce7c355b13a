package io.mpathnbd.nbd.protocol;

import io.mpathnbd.core.request.Extents;

/** BLOCK_STATUS: u32 context id, then (u32 length, u32 flags) per extent. */
public final class NbdBlockStatusChunk extends NbdChunk {
    private final int contextId;
    private final Extents extents;

    public NbdBlockStatusChunk(int flags, long cookie, int contextId, Extents extents) {
        super(flags, NbdConstants.REPLY_TYPE_BLOCK_STATUS, cookie, null);
        this.contextId = contextId;
        this.extents = extents;
    }

    public int contextId() {
        return contextId;
    }

    public Extents extents() {
        return extents;
    }

    @Override
    public int payloadLength() {
        return 4 + 8 * extents.count();
    }
}
