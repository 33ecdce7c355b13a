package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;

/**
 * NOP-In (0x20): the answer to a ping (ITT valid, TTT reserved) or the target's own ping (ITT reserved, TTT valid:
 * must be answered by a NOP-Out carrying the same TTT and LUN).
 */
public final class NopIn extends IscsiPdu {
    private final long lun;
    private final int itt;
    private final int ttt;
    private final int statSN;
    private final int expCmdSN;
    private final int maxCmdSN;

    public NopIn(long lun, int itt, int ttt, int statSN, int expCmdSN, int maxCmdSN, ByteBuf data) {
        super(false, data);
        this.lun = lun;
        this.itt = itt;
        this.ttt = ttt;
        this.statSN = statSN;
        this.expCmdSN = expCmdSN;
        this.maxCmdSN = maxCmdSN;
    }

    @Override
    public int opcode() {
        return Opcodes.NOP_IN;
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

    /** True when the target asks for a NOP-Out answer. */
    public boolean needsAnswer() {
        return ttt != Opcodes.RESERVED_TAG;
    }

    /** StatSN; not advanced by a target-initiated NOP-In (RFC 7143 11.19). */
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
        h.setByte(1, Opcodes.FINAL);
        h.setLong(8, lun);
        h.setInt(16, itt);
        h.setInt(20, ttt);
        h.setInt(24, statSN);
        h.setInt(28, expCmdSN);
        h.setInt(32, maxCmdSN);
    }

    static NopIn read(ByteBuf h, ByteBuf data) {
        require(h.getUnsignedByte(1) == Opcodes.FINAL, "NOP-In flags " + hex(h.getUnsignedByte(1)));
        require(h.getInt(16) != Opcodes.RESERVED_TAG || h.getInt(20) != Opcodes.RESERVED_TAG,
                "NOP-In with both ITT and TTT reserved");
        require(h.getInt(16) == Opcodes.RESERVED_TAG || h.getInt(20) == Opcodes.RESERVED_TAG,
                "NOP-In with both ITT and TTT valid");
        return new NopIn(h.getLong(8), h.getInt(16), h.getInt(20), h.getInt(24), h.getInt(28), h.getInt(32), data);
    }

    @Override
    public NopIn replace(ByteBuf content) {
        return new NopIn(lun, itt, ttt, statSN, expCmdSN, maxCmdSN, content);
    }

    @Override
    protected String describe() {
        return "itt=" + hex(itt) + " ttt=" + hex(ttt) + " statSN=" + Integer.toUnsignedString(statSN);
    }
}
