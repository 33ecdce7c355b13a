package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;

/**
 * NOP-Out (0x00): a ping (ITT valid, target answers with NOP-In) or the answer to a target's NOP-In (ITT reserved,
 * TTT copied from the NOP-In). Ping data travels in the data segment.
 */
public final class NopOut extends IscsiPdu {
    private final long lun;
    private final int itt;
    private final int ttt;
    private final int cmdSN;
    private final int expStatSN;

    public NopOut(boolean immediate, long lun, int itt, int ttt, int cmdSN, int expStatSN, ByteBuf data) {
        super(immediate, data);
        this.lun = lun;
        this.itt = itt;
        this.ttt = ttt;
        this.cmdSN = cmdSN;
        this.expStatSN = expStatSN;
    }

    @Override
    public int opcode() {
        return Opcodes.NOP_OUT;
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

    public int cmdSN() {
        return cmdSN;
    }

    public int expStatSN() {
        return expStatSN;
    }

    @Override
    protected void writeFields(ByteBuf h) {
        h.setByte(1, Opcodes.FINAL);
        h.setLong(8, lun);
        h.setInt(16, itt);
        h.setInt(20, ttt);
        h.setInt(24, cmdSN);
        h.setInt(28, expStatSN);
    }

    static NopOut read(ByteBuf h, boolean immediate, ByteBuf data) {
        require((h.getByte(1) & Opcodes.FINAL) != 0, "NOP-Out without the F bit");
        require(h.getInt(16) != Opcodes.RESERVED_TAG || h.getInt(20) != Opcodes.RESERVED_TAG,
                "NOP-Out with both ITT and TTT reserved");
        return new NopOut(immediate, h.getLong(8), h.getInt(16), h.getInt(20), h.getInt(24), h.getInt(28), data);
    }

    @Override
    public NopOut replace(ByteBuf content) {
        return new NopOut(immediate(), lun, itt, ttt, cmdSN, expStatSN, content);
    }

    @Override
    protected String describe() {
        return "itt=" + hex(itt) + " ttt=" + hex(ttt) + " cmdSN=" + Integer.toUnsignedString(cmdSN);
    }
}
