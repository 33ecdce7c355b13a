package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;

/**
 * A target PDU that belongs to an initiator task: besides the {@link TargetPdu} sequence numbers it carries the
 * RFC 7143 Initiator Task Tag (bytes 16-19). Asynchronous Message and Reject have the reserved tag there instead and
 * do not extend this.
 */
public abstract class TaggedTargetPdu extends TargetPdu {
    private final int itt;

    protected TaggedTargetPdu(int itt, int statSN, int expCmdSN, int maxCmdSN, ByteBuf data) {
        super(statSN, expCmdSN, maxCmdSN, data);
        this.itt = itt;
    }

    public final int itt() {
        return itt;
    }

    @Override
    protected final void writeFields(ByteBuf h) {
        h.setInt(16, itt);
        super.writeFields(h);
    }

    static int readItt(ByteBuf h) {
        return h.getInt(16);
    }
}
