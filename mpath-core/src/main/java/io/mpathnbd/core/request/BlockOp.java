package io.mpathnbd.core.request;

/** The block operations the core forwards. Transport-neutral: NBD and SCSI both map onto these. */
public enum BlockOp {
    READ(false),
    WRITE(true),
    FLUSH(false),
    TRIM(true),
    CACHE(false),
    WRITE_ZEROES(true),
    BLOCK_STATUS(false);

    private static final BlockOp[] VALUES = values();

    private final boolean modifiesData;

    BlockOp(boolean modifiesData) {
        this.modifiesData = modifiesData;
    }

    /** True for operations that change the disk's content: these are fenced and tracked for FLUSH. */
    public boolean modifiesData() {
        return modifiesData;
    }

    /** Allocation-free lookup by ordinal. */
    public static BlockOp ofOrdinal(int ordinal) {
        return VALUES[ordinal];
    }

    public static int count() {
        return VALUES.length;
    }
}
