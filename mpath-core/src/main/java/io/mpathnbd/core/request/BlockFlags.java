package io.mpathnbd.core.request;

/**
 * Per-request flags. The bit values are NBD's command flags on purpose: the NBD front end and backend pass
 * them through unchanged, and other transports translate the few they honour (FUA).
 */
public final class BlockFlags {
    /** Write: complete only when this request's data is on stable storage. */
    public static final int FUA = 1;
    /** WRITE_ZEROES: do not punch a hole. */
    public static final int NO_HOLE = 1 << 1;
    /** READ: answer in one data chunk (structured replies only). */
    public static final int DF = 1 << 2;
    /** BLOCK_STATUS: one extent only. */
    public static final int REQ_ONE = 1 << 3;
    /** WRITE_ZEROES: fail with ENOTSUP rather than write zeroes slowly. */
    public static final int FAST_ZERO = 1 << 4;

    public static final int ALL = FUA | NO_HOLE | DF | REQ_ONE | FAST_ZERO;

    private BlockFlags() {
    }

    public static boolean has(int flags, int flag) {
        return (flags & flag) != 0;
    }
}
