package io.mpathnbd.nbd.protocol;

/** OFFSET_HOLE: u64 offset, u32 hole size; the range reads as zeroes. */
public final class NbdOffsetHoleChunk extends NbdChunk {
    private final long offset;
    private final int holeSize;

    public NbdOffsetHoleChunk(int flags, long cookie, long offset, int holeSize) {
        super(flags, NbdConstants.REPLY_TYPE_OFFSET_HOLE, cookie, null);
        this.offset = offset;
        this.holeSize = holeSize;
    }

    public long offset() {
        return offset;
    }

    public int holeSize() {
        return holeSize;
    }

    @Override
    public int payloadLength() {
        return 12;
    }
}
