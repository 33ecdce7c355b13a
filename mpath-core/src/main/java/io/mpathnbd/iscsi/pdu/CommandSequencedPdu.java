package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;

/**
 * An initiator PDU numbered in the command window: it carries the RFC 7143 Initiator Task Tag (bytes 16-19), CmdSN
 * (24-27) and ExpStatSN (28-31) of the basic header segment. Every initiator PDU but Data-Out, which has no CmdSN.
 */
public abstract class CommandSequencedPdu extends IscsiPdu {
    private final int itt;
    private final int cmdSN;
    private final int expStatSN;

    protected CommandSequencedPdu(boolean immediate, int itt, int cmdSN, int expStatSN, ByteBuf data) {
        super(immediate, data);
        this.itt = itt;
        this.cmdSN = cmdSN;
        this.expStatSN = expStatSN;
    }

    public final int itt() {
        return itt;
    }

    public final int cmdSN() {
        return cmdSN;
    }

    public final int expStatSN() {
        return expStatSN;
    }

    /** Writes the tag and sequence numbers, then the subtype's own fields. */
    @Override
    protected final void writeFields(ByteBuf h) {
        h.setInt(16, itt);
        h.setInt(24, cmdSN);
        h.setInt(28, expStatSN);
        writeOwnFields(h);
    }

    /** Writes the fields of the concrete type, as {@link IscsiPdu#writeFields} describes. */
    protected abstract void writeOwnFields(ByteBuf h);

    static int readItt(ByteBuf h) {
        return h.getInt(16);
    }

    static int readCmdSN(ByteBuf h) {
        return h.getInt(24);
    }

    static int readExpStatSN(ByteBuf h) {
        return h.getInt(28);
    }
}
