package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;

/** Text Response (0x24): the target's key=value text; C set means more text follows in the next response. */
public final class TextResponse extends IscsiPdu {
    private final boolean finalPdu;
    private final boolean cont;
    private final long lun;
    private final int itt;
    private final int ttt;
    private final int statSN;
    private final int expCmdSN;
    private final int maxCmdSN;

    public TextResponse(boolean finalPdu, boolean cont, long lun, int itt, int ttt, int statSN, int expCmdSN,
            int maxCmdSN, ByteBuf data) {
        super(false, data);
        if (finalPdu && cont) {
            throw new IllegalArgumentException("Text Response with both F and C");
        }
        this.finalPdu = finalPdu;
        this.cont = cont;
        this.lun = lun;
        this.itt = itt;
        this.ttt = ttt;
        this.statSN = statSN;
        this.expCmdSN = expCmdSN;
        this.maxCmdSN = maxCmdSN;
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

    public int itt() {
        return itt;
    }

    public int ttt() {
        return ttt;
    }

    public int statSN() {
        return statSN;
    }

    public int expCmdSN() {
        return expCmdSN;
    }

    public int maxCmdSN() {
        return maxCmdSN;
    }

    @Override
    protected void writeFields(ByteBuf h) {
        h.setByte(1, (finalPdu ? Opcodes.FINAL : 0) | (cont ? Opcodes.CONTINUE : 0));
        h.setLong(8, lun);
        h.setInt(16, itt);
        h.setInt(20, ttt);
        h.setInt(24, statSN);
        h.setInt(28, expCmdSN);
        h.setInt(32, maxCmdSN);
    }

    static TextResponse read(ByteBuf h, ByteBuf data) {
        int flags = h.getUnsignedByte(1);
        require((flags & 0x3f) == 0, "Text Response with reserved flag bits " + hex(flags));
        require(flags != (Opcodes.FINAL | Opcodes.CONTINUE), "Text Response with both F and C");
        return new TextResponse((flags & Opcodes.FINAL) != 0, (flags & Opcodes.CONTINUE) != 0, h.getLong(8),
                h.getInt(16), h.getInt(20), h.getInt(24), h.getInt(28), h.getInt(32), data);
    }

    @Override
    public TextResponse replace(ByteBuf content) {
        return new TextResponse(finalPdu, cont, lun, itt, ttt, statSN, expCmdSN, maxCmdSN, content);
    }

    @Override
    protected String describe() {
        return (finalPdu ? "F " : "") + (cont ? "C " : "") + "itt=" + hex(itt) + " ttt=" + hex(ttt);
    }
}
