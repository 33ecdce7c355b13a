package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;

/** Text Response (0x24): the target's key=value text; C set means more text follows in the next response. */
public final class TextResponse extends TaggedTargetPdu {
    private final boolean finalPdu;
    private final boolean cont;
    private final long lun;
    private final int ttt;

    public TextResponse(boolean finalPdu, boolean cont, long lun, int itt, int ttt, int statSN, int expCmdSN,
            int maxCmdSN, ByteBuf data) {
        super(itt, statSN, expCmdSN, maxCmdSN, data);
        if (finalPdu && cont) {
            throw new IllegalArgumentException("Text Response with both F and C");
        }
        this.finalPdu = finalPdu;
        this.cont = cont;
        this.lun = lun;
        this.ttt = ttt;
    }

    @Override
    public int opcode() {
        return Opcodes.TEXT_RESPONSE;
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

    public int ttt() {
        return ttt;
    }

    @Override
    protected void writeOwnFields(ByteBuf h) {
        h.setByte(1, (finalPdu ? Opcodes.FINAL : 0) | (cont ? Opcodes.CONTINUE : 0));
        h.setLong(8, lun);
        h.setInt(20, ttt);
    }

    static TextResponse read(ByteBuf h, ByteBuf data) {
        int flags = h.getUnsignedByte(1);
        require((flags & 0x3f) == 0, "Text Response with reserved flag bits " + hex(flags));
        require(flags != (Opcodes.FINAL | Opcodes.CONTINUE), "Text Response with both F and C");
        return new TextResponse((flags & Opcodes.FINAL) != 0, (flags & Opcodes.CONTINUE) != 0, h.getLong(8),
                readItt(h), h.getInt(20), readStatSN(h), readExpCmdSN(h), readMaxCmdSN(h), data);
    }

    @Override
    public TextResponse replace(ByteBuf content) {
        return new TextResponse(finalPdu, cont, lun, itt(), ttt, statSN(), expCmdSN(), maxCmdSN(), content);
    }

    @Override
    protected String describe() {
        return (finalPdu ? "F " : "") + (cont ? "C " : "") + "itt=" + hex(itt()) + " ttt=" + hex(ttt);
    }
}
