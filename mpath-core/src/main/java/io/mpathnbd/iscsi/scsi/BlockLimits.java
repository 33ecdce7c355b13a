package io.mpathnbd.iscsi.scsi;

import io.netty.buffer.ByteBuf;

/**
 * VPD page 0xB0, Block Limits (SBC-3 6.6.3). Fields the page does not reach (the SBC-2 page ends after byte 15,
 * allocation length may cut it) read as 0, meaning "not reported". For UNMAP, 0 also means "UNMAP not offered"
 * and 0xFFFFFFFF "no maximum", kept raw here.
 */
public record BlockLimits(int maxTransferBlocks, int optimalTransferBlocks, long maxUnmapBlocks,
        int maxUnmapDescriptors, long maxWriteSameBlocks, int unmapGranularity) {

    /** SBC-2's page: header, granularity, maximum and optimal transfer length. */
    private static final int MANDATORY = 16;

    public static BlockLimits parse(ByteBuf data) {
        int end = Vpd.open(data, Cdbs.VPD_BLOCK_LIMITS, MANDATORY, "block limits VPD page");
        return new BlockLimits(Bytes.u32Clamped(data, 8), Bytes.u32Clamped(data, 12),
                end >= 24 ? Bytes.u32(data, 20) : 0,
                end >= 28 ? Bytes.u32Clamped(data, 24) : 0,
                end >= 44 ? clampU64(Bytes.s64(data, 36)) : 0,
                end >= 32 ? Bytes.u32Clamped(data, 28) : 0);
    }

    private static long clampU64(long raw) {
        return raw < 0 ? Long.MAX_VALUE : raw;
    }
}
