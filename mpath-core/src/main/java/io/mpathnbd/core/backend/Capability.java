package io.mpathnbd.core.backend;

/**
 * What a backend session (and, intersected over its paths, an export) can do. Bits 0-11 share NBD's transmission
 * flag values so the NBD transports map them directly; {@link #BLOCK_STATUS} has no NBD flag (it is a meta context).
 */
public final class Capability {
    public static final int READ_ONLY = 1 << 1;
    public static final int FLUSH = 1 << 2;
    public static final int FUA = 1 << 3;
    public static final int ROTATIONAL = 1 << 4;
    public static final int TRIM = 1 << 5;
    public static final int WRITE_ZEROES = 1 << 6;
    /** Reads can be answered in one chunk (NBD DF); meaningful only for structured replies. */
    public static final int DF = 1 << 7;
    /** A FLUSH/FUA on one connection of this backend covers writes made on all its connections. */
    public static final int MULTI_CONN = 1 << 8;
    public static final int CACHE = 1 << 10;
    public static final int FAST_ZERO = 1 << 11;
    /** Reports allocation (NBD meta context base:allocation, SCSI GET LBA STATUS). */
    public static final int BLOCK_STATUS = 1 << 16;

    private Capability() {
    }

    public static boolean has(int caps, int cap) {
        return (caps & cap) != 0;
    }

    public static String describe(int caps) {
        StringBuilder sb = new StringBuilder();
        append(sb, caps, READ_ONLY, "read-only");
        append(sb, caps, FLUSH, "flush");
        append(sb, caps, FUA, "fua");
        append(sb, caps, ROTATIONAL, "rotational");
        append(sb, caps, TRIM, "trim");
        append(sb, caps, WRITE_ZEROES, "write-zeroes");
        append(sb, caps, DF, "df");
        append(sb, caps, MULTI_CONN, "multi-conn");
        append(sb, caps, CACHE, "cache");
        append(sb, caps, FAST_ZERO, "fast-zero");
        append(sb, caps, BLOCK_STATUS, "block-status");
        return sb.toString();
    }

    private static void append(StringBuilder sb, int caps, int cap, String name) {
        if ((caps & cap) != 0) {
            if (sb.length() > 0) {
                sb.append(',');
            }
            sb.append(name);
        }
    }
}
