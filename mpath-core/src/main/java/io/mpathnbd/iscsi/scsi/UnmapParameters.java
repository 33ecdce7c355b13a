package io.mpathnbd.iscsi.scsi;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/** UNMAP parameter list (SBC-3 5.28.2): an 8-byte header, then 16-byte block descriptors. */
public final class UnmapParameters {
    static final int HEADER = 8;
    static final int DESCRIPTOR = 16;
    /** A descriptor's NUMBER OF LOGICAL BLOCKS is 32 bits; longer ranges take several descriptors. */
    static final long MAX_BLOCKS_PER_DESCRIPTOR = 0xffffffffL;

    private UnmapParameters() {
    }

    /** Bytes of the list for a range of {@code blocks} blocks: the UNMAP CDB's parameter list length. */
    public static int length(long blocks) {
        return HEADER + descriptors(blocks) * DESCRIPTOR;
    }

    /** The caller owns (and releases) the returned buffer. */
    public static ByteBuf encode(ByteBufAllocator a, long lba, long blocks) {
        if (lba < 0 || blocks <= 0 || lba + blocks < 0) {
            throw new IllegalArgumentException("UNMAP range lba " + lba + " blocks " + blocks);
        }
        int count = descriptors(blocks);
        int length = HEADER + count * DESCRIPTOR;
        if (length > 0xffff) {
            throw new IllegalArgumentException("UNMAP of " + blocks + " blocks needs " + count + " descriptors");
        }
        ByteBuf out = a.buffer(length, length);
        out.writeShort(length - 2);          // UNMAP DATA LENGTH: bytes after this field
        out.writeShort(count * DESCRIPTOR);  // BLOCK DESCRIPTOR DATA LENGTH
        out.writeInt(0);
        long next = lba;
        long left = blocks;
        while (left > 0) {
            long n = Math.min(left, MAX_BLOCKS_PER_DESCRIPTOR);
            out.writeLong(next);
            out.writeInt((int) n);
            out.writeInt(0);
            next += n;
            left -= n;
        }
        return out;
    }

    private static int descriptors(long blocks) {
        return (int) Math.max(1, (blocks + MAX_BLOCKS_PER_DESCRIPTOR - 1) / MAX_BLOCKS_PER_DESCRIPTOR);
    }
}
