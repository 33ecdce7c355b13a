package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;

/** Text Request (0x04): key=value text in full feature phase (SendTargets during discovery). */
public final class TextRequest extends CommandSequencedPdu {
    private final boolean finalPdu;
    private final boolean cont;
    private final long lun;
    private final int ttt;

    public TextRequest(boolean immediate, boolean finalPdu, boolean cont, long lun, int itt, int ttt, int cmdSN,
            int expStatSN, ByteBuf data) {
        super(immediate, itt, cmdSN, expStatSN, data);
        if (finalPdu && cont) {
            throw new IllegalArgumentException("Text Request with both F and C");
        }
        this.finalPdu = finalPdu;
        this.cont = cont;
        this.lun = lun;
        this.ttt = ttt;
    }

    @Override
    public int opcode() {
        return Opcodes.TEXT_REQUEST;
    }

    public boolean isFinal() {
        return finalPdu;
    }

    public boolean isContinue() {
        return cont;
    }

    public long lun() {
        return lun;
    }

    /** The reserved tag to start, the target's tag to continue a multi-PDU exchange. */
    public int ttt() {
        return ttt;
    }

    @Override
    protected void writeOwnFields(ByteBuf h) {
        h.setByte(1, (finalPdu ? Opcodes.FINAL : 0) | (cont ? Opcodes.CONTINUE : 0));
        h.setLong(8, lun);
        h.setInt(20, ttt);
    }

    static TextRequest read(ByteBuf h, boolean immediate, ByteBuf data) {
        int flags = h.getUnsignedByte(1);
        require((flags & 0x3f) == 0, "Text Request with reserved flag bits " + hex(flags));
        require(flags != (Opcodes.FINAL | Opcodes.CONTINUE), "Text Request with both F and C");
        return new TextRequest(immediate, (flags & Opcodes.FINAL) != 0, (flags & Opcodes.CONTINUE) != 0,
                h.getLong(8), readItt(h), h.getInt(20), readCmdSN(h), readExpStatSN(h), data);
    }

    @Override
    public TextRequest replace(ByteBuf content) {
        return new TextRequest(immediate(), finalPdu, cont, lun, itt(), ttt, cmdSN(), expStatSN(), content);
    }

    @Override
    protected String describe() {
        return (finalPdu ? "F " : "") + (cont ? "C " : "") + "itt=" + hex(itt()) + " ttt=" + hex(ttt);
    }
}
