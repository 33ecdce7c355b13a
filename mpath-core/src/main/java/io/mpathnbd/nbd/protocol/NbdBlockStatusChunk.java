package io.mpathnbd.nbd.protocol;

import io.mpathnbd.core.request.Extents;

/**
 * BLOCK_STATUS: u32 context id, then (u32 length, u32 flags) per extent; or, with extended headers,
 * BLOCK_STATUS_EXT: u32 context id, u32 descriptor count, then (u64 length, u32 padding, u32 flags) per extent.
 * Extent lengths are unsigned 32-bit in both (the core's requests are shorter than 2^31 bytes).
 */
public final class NbdBlockStatusChunk extends NbdChunk {
    private final int contextId;
    private final Extents extents;

    public NbdBlockStatusChunk(int flags, long cookie, int contextId, Extents extents) {
        this(flags, cookie, contextId, extents, false);
    }

    public NbdBlockStatusChunk(int flags, long cookie, int contextId, Extents extents, boolean extended) {
        super(flags, extended ? NbdConstants.REPLY_TYPE_BLOCK_STATUS_EXT : NbdConstants.REPLY_TYPE_BLOCK_STATUS,
                cookie, null);
        this.contextId = contextId;
        this.extents = extents;
    }

    public int contextId() {
        return contextId;
    }

    public Extents extents() {
        return extents;
    }

    /** The 64-bit form, BLOCK_STATUS_EXT. */
    public boolean isExtended() {
        return type() == NbdConstants.REPLY_TYPE_BLOCK_STATUS_EXT;
    }

    @Override
    public int payloadLength() {
        return isExtended() ? 8 + 16 * extents.count() : 4 + 8 * extents.count();
    }
}
