package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;

/**
 * NOP-Out (0x00): a ping (ITT valid, target answers with NOP-In) or the answer to a target's NOP-In (ITT reserved,
 * TTT copied from the NOP-In). Ping data travels in the data segment.
 */
public final class NopOut extends CommandSequencedPdu {
    private final long lun;
    private final int ttt;

    public NopOut(boolean immediate, long lun, int itt, int ttt, int cmdSN, int expStatSN, ByteBuf data) {
        super(immediate, itt, cmdSN, expStatSN, data);
        this.lun = lun;
        this.ttt = ttt;
    }

    @Override
    public int opcode() {
        return Opcodes.NOP_OUT;
    }

    public long lun() {
        return lun;
    }

    public int ttt() {
        return ttt;
    }

    @Override
    protected void writeOwnFields(ByteBuf h) {
        h.setByte(1, Opcodes.FINAL);
        h.setLong(8, lun);
        h.setInt(20, ttt);
    }

    static NopOut read(ByteBuf h, boolean immediate, ByteBuf data) {
        require((h.getByte(1) & Opcodes.FINAL) != 0, "NOP-Out without the F bit");
        require(readItt(h) != Opcodes.RESERVED_TAG || h.getInt(20) != Opcodes.RESERVED_TAG,
                "NOP-Out with both ITT and TTT reserved");
        return new NopOut(immediate, h.getLong(8), readItt(h), h.getInt(20), readCmdSN(h), readExpStatSN(h), data);
    }

    @Override
    public NopOut replace(ByteBuf content) {
        return new NopOut(immediate(), lun, itt(), ttt, cmdSN(), expStatSN(), content);
    }

    @Override
    protected String describe() {
        return "itt=" + hex(itt()) + " ttt=" + hex(ttt) + " cmdSN=" + Integer.toUnsignedString(cmdSN());
    }
}
