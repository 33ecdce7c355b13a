package io.mpathnbd.nbd.backend;

import io.mpathnbd.core.backend.BackendInfo;
import io.mpathnbd.core.backend.Capability;
import io.mpathnbd.nbd.protocol.NbdConstants;

/**
 * What one connection's handshake settled.
 *
 * @param size export size in bytes
 * @param transmissionFlags the server's u16 transmission flags
 * @param structured whether structured replies were negotiated
 * @param allocationContextId the id of {@code base:allocation}, or -1 if not negotiated
 * @param minBlock minimum block size (1 if the server sent none)
 * @param preferredBlock preferred block size (4096 if none)
 * @param maxBlock maximum payload (32 MiB if none)
 * @param description the export description, or null
 * @param canonicalName the name the server reported (INFO_NAME), or null
 * @param usedExportName true when the server does not know GO and EXPORT_NAME was used
 * @param extended whether extended headers were negotiated (which implies {@code structured})
 */
record Negotiated(
        long size,
        int transmissionFlags,
        boolean structured,
        int allocationContextId,
        int minBlock,
        int preferredBlock,
        int maxBlock,
        String description,
        String canonicalName,
        boolean usedExportName,
        boolean extended) {

    static final int DEFAULT_MIN_BLOCK = 1;
    static final int DEFAULT_PREFERRED_BLOCK = 4096;
    static final int DEFAULT_MAX_BLOCK = 32 * 1024 * 1024;

    /** Transmission flags that map one to one onto {@link Capability} bits. */
    private static final int PLAIN_CAPABILITIES = Capability.READ_ONLY | Capability.FLUSH | Capability.FUA
            | Capability.ROTATIONAL | Capability.TRIM | Capability.WRITE_ZEROES | Capability.MULTI_CONN
            | Capability.CACHE;

    boolean multiConn() {
        return has(NbdConstants.TFLAG_CAN_MULTI_CONN);
    }

    boolean has(int transmissionFlag) {
        return (transmissionFlags & NbdConstants.TFLAG_HAS_FLAGS) != 0 && (transmissionFlags & transmissionFlag) != 0;
    }

    int capabilities() {
        if ((transmissionFlags & NbdConstants.TFLAG_HAS_FLAGS) == 0) {
            return 0;
        }
        int caps = transmissionFlags & PLAIN_CAPABILITIES;
        if (structured && has(NbdConstants.TFLAG_SEND_DF)) {
            caps |= Capability.DF;
        }
        if (has(NbdConstants.TFLAG_SEND_WRITE_ZEROES) && has(NbdConstants.TFLAG_SEND_FAST_ZERO)) {
            caps |= Capability.FAST_ZERO;
        }
        if (allocationContextId >= 0) {
            caps |= Capability.BLOCK_STATUS;
        }
        return caps;
    }

    BackendInfo toInfo(int optionMaxPayload) {
        int maxPayload = Math.min(optionMaxPayload, maxBlock);
        return new BackendInfo(size, capabilities(), minBlock, preferredBlock, maxPayload, null, description);
    }

    /** The same disk as another connection of the session sees it (size, flags and sizes agree). */
    boolean sameExportAs(Negotiated o) {
        return size == o.size && transmissionFlags == o.transmissionFlags && structured == o.structured
                && extended == o.extended
                && allocationContextId >= 0 == o.allocationContextId >= 0 && minBlock == o.minBlock
                && maxBlock == o.maxBlock;
    }

    String describe() {
        return "size " + size + ", flags " + Capability.describe(capabilities()) + ", structured replies "
                + (structured ? "yes" : "no") + ", extended headers " + (extended ? "yes" : "no") + ", block sizes "
                + minBlock + "/" + preferredBlock + "/" + maxBlock
                + (usedExportName ? ", EXPORT_NAME (server lacks GO)" : "");
    }
}
