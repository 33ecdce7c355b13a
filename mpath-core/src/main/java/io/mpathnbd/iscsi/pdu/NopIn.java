package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;

/**
 * NOP-In (0x20): the answer to a ping (ITT valid, TTT reserved) or the target's own ping (ITT reserved, TTT valid:
 * must be answered by a NOP-Out carrying the same TTT and LUN).
 */
public final class NopIn extends TaggedTargetPdu {
    private final long lun;
    private final int ttt;

    public NopIn(long lun, int itt, int ttt, int statSN, int expCmdSN, int maxCmdSN, ByteBuf data) {
        super(itt, statSN, expCmdSN, maxCmdSN, data);
        this.lun = lun;
        this.ttt = ttt;
    }

    @Override
    public int opcode() {
        return Opcodes.NOP_IN;
    }

    public long lun() {
        return lun;
    }

    public int ttt() {
        return ttt;
    }

    /** True when the target asks for a NOP-Out answer. */
    public boolean needsAnswer() {
        return ttt != Opcodes.RESERVED_TAG;
    }

    @Override
    protected void writeOwnFields(ByteBuf h) {
        h.setByte(1, Opcodes.FINAL);
        h.setLong(8, lun);
        h.setInt(20, ttt);
    }

    static NopIn read(ByteBuf h, ByteBuf data) {
        require(h.getUnsignedByte(1) == Opcodes.FINAL, "NOP-In flags " + hex(h.getUnsignedByte(1)));
        require(readItt(h) != Opcodes.RESERVED_TAG || h.getInt(20) != Opcodes.RESERVED_TAG,
                "NOP-In with both ITT and TTT reserved");
        require(readItt(h) == Opcodes.RESERVED_TAG || h.getInt(20) == Opcodes.RESERVED_TAG,
                "NOP-In with both ITT and TTT valid");
        return new NopIn(h.getLong(8), readItt(h), h.getInt(20), readStatSN(h), readExpCmdSN(h), readMaxCmdSN(h),
                data);
    }

    @Override
    public NopIn replace(ByteBuf content) {
        return new NopIn(lun, itt(), ttt, statSN(), expCmdSN(), maxCmdSN(), content);
    }

    @Override
    protected String describe() {
        return "itt=" + hex(itt()) + " ttt=" + hex(ttt) + " statSN=" + Integer.toUnsignedString(statSN());
    }
}
