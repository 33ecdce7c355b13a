package io.mpathnbd.server.frontend;

import io.mpathnbd.nbd.protocol.NbdConstants;

/** The transmission flags a client sees: what the export can do, limited to what this connection negotiated. */
final class TransmissionFlags {
    /**
     * Capability bits that are NBD transmission flags with the same value (READ_ONLY .. CAN_MULTI_CONN, SEND_CACHE,
     * SEND_FAST_ZERO). RESIZE (bit 9) is not implemented and bits 12+ are not NBD flags.
     */
    static final int CAPABILITY_MASK = NbdConstants.TFLAG_READ_ONLY | NbdConstants.TFLAG_SEND_FLUSH
            | NbdConstants.TFLAG_SEND_FUA | NbdConstants.TFLAG_ROTATIONAL | NbdConstants.TFLAG_SEND_TRIM
            | NbdConstants.TFLAG_SEND_WRITE_ZEROES | NbdConstants.TFLAG_SEND_DF | NbdConstants.TFLAG_CAN_MULTI_CONN
            | NbdConstants.TFLAG_SEND_CACHE | NbdConstants.TFLAG_SEND_FAST_ZERO;

    /** Commands that only write: not offered on a read-only export (as qemu-nbd and nbdkit do). */
    private static final int WRITE_ONLY_FLAGS = NbdConstants.TFLAG_SEND_TRIM | NbdConstants.TFLAG_SEND_WRITE_ZEROES
            | NbdConstants.TFLAG_SEND_FAST_ZERO;

    private TransmissionFlags() {
    }

    static int advertised(int capabilities, boolean structuredReplies) {
        return advertised(capabilities, structuredReplies, false);
    }

    /** @param readOnly the client may only read, whatever the export's paths can do */
    static int advertised(int capabilities, boolean structuredReplies, boolean readOnly) {
        int flags = NbdConstants.TFLAG_HAS_FLAGS | (capabilities & CAPABILITY_MASK);
        if (readOnly) {
            flags |= NbdConstants.TFLAG_READ_ONLY;
        }
        if ((flags & NbdConstants.TFLAG_READ_ONLY) != 0) {
            flags &= ~WRITE_ONLY_FLAGS;
        }
        if (!structuredReplies) {
            // the spec: SEND_DF must stay clear unless structured replies were negotiated
            flags &= ~NbdConstants.TFLAG_SEND_DF;
        }
        if ((flags & NbdConstants.TFLAG_SEND_WRITE_ZEROES) == 0) {
            flags &= ~NbdConstants.TFLAG_SEND_FAST_ZERO;
        }
        return flags;
    }

    static boolean has(int flags, int flag) {
        return (flags & flag) != 0;
    }

    /** Names of the set flags, for the attach log line. */
    static String describe(int flags) {
        StringBuilder sb = new StringBuilder();
        append(sb, flags, NbdConstants.TFLAG_READ_ONLY, "read-only");
        append(sb, flags, NbdConstants.TFLAG_SEND_FLUSH, "flush");
        append(sb, flags, NbdConstants.TFLAG_SEND_FUA, "fua");
        append(sb, flags, NbdConstants.TFLAG_ROTATIONAL, "rotational");
        append(sb, flags, NbdConstants.TFLAG_SEND_TRIM, "trim");
        append(sb, flags, NbdConstants.TFLAG_SEND_WRITE_ZEROES, "write-zeroes");
        append(sb, flags, NbdConstants.TFLAG_SEND_DF, "df");
        append(sb, flags, NbdConstants.TFLAG_CAN_MULTI_CONN, "multi-conn");
        append(sb, flags, NbdConstants.TFLAG_SEND_CACHE, "cache");
        append(sb, flags, NbdConstants.TFLAG_SEND_FAST_ZERO, "fast-zero");
        return sb.length() == 0 ? "none" : sb.toString();
    }

    private static void append(StringBuilder sb, int flags, int flag, String name) {
        if ((flags & flag) != 0) {
            if (sb.length() > 0) {
                sb.append(',');
            }
            sb.append(name);
        }
    }
}
