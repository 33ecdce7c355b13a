package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;

/**
 * A target PDU: every one carries the RFC 7143 StatSN (bytes 24-27), ExpCmdSN (28-31) and MaxCmdSN (32-35) of the
 * basic header segment, through which the target acknowledges status and opens the command window. Kept here so
 * the offsets are written and read in one place.
 */
public abstract class TargetPdu extends IscsiPdu {
    private final int statSN;
    private final int expCmdSN;
    private final int maxCmdSN;

    protected TargetPdu(int statSN, int expCmdSN, int maxCmdSN, ByteBuf data) {
        super(false, data);
        this.statSN = statSN;
        this.expCmdSN = expCmdSN;
        this.maxCmdSN = maxCmdSN;
    }

    /**
     * StatSN. R2T and a target-initiated NOP-In carry the next one without advancing it (RFC 7143 11.19); Data-In
     * sends it only with its S bit.
     */
    public final int statSN() {
        return statSN;
    }

    public final int expCmdSN() {
        return expCmdSN;
    }

    public final int maxCmdSN() {
        return maxCmdSN;
    }

    /** Writes the sequence numbers, then the subtype's own fields (which may thus overwrite them). */
    @Override
    protected void writeFields(ByteBuf h) {
        h.setInt(24, statSN);
        h.setInt(28, expCmdSN);
        h.setInt(32, maxCmdSN);
        writeOwnFields(h);
    }

    /** Writes the fields of the concrete type, as {@link IscsiPdu#writeFields} describes. */
    protected abstract void writeOwnFields(ByteBuf h);

    static int readStatSN(ByteBuf h) {
        return h.getInt(24);
    }

    static int readExpCmdSN(ByteBuf h) {
        return h.getInt(28);
    }

    static int readMaxCmdSN(ByteBuf h) {
        return h.getInt(32);
    }
}
