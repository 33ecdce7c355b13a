package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;

/**
 * R2T (0x31): the target asks for {@code desiredLength} bytes of write data at {@code bufferOffset}, to be sent as
 * Data-Out PDUs carrying its TTT. No data.
 */
public final class ReadyToTransfer extends TaggedTargetPdu {
    private final long lun;
    private final int ttt;
    private final int r2tSN;
    private final int bufferOffset;
    private final int desiredLength;

    public ReadyToTransfer(long lun, int itt, int ttt, int statSN, int expCmdSN, int maxCmdSN, int r2tSN,
            int bufferOffset, int desiredLength) {
        this(lun, itt, ttt, statSN, expCmdSN, maxCmdSN, r2tSN, bufferOffset, desiredLength, null);
    }

    private ReadyToTransfer(long lun, int itt, int ttt, int statSN, int expCmdSN, int maxCmdSN, int r2tSN,
            int bufferOffset, int desiredLength, ByteBuf data) {
        super(itt, statSN, expCmdSN, maxCmdSN, data);
        this.lun = lun;
        this.ttt = ttt;
        this.r2tSN = r2tSN;
        this.bufferOffset = bufferOffset;
        this.desiredLength = desiredLength;
    }

    @Override
    public int opcode() {
        return Opcodes.R2T;
    }

    @Override
    public boolean allowsData() {
        return false;
    }

    public long lun() {
        return lun;
    }

    public int ttt() {
        return ttt;
    }

    public int r2tSN() {
        return r2tSN;
    }

    public int bufferOffset() {
        return bufferOffset;
    }

    /** Unsigned, never 0. */
    public int desiredLength() {
        return desiredLength;
    }

    @Override
    protected void writeOwnFields(ByteBuf h) {
        h.setByte(1, Opcodes.FINAL);
        h.setLong(8, lun);
        h.setInt(20, ttt);
        h.setInt(36, r2tSN);
        h.setInt(40, bufferOffset);
        h.setInt(44, desiredLength);
    }

    static ReadyToTransfer read(ByteBuf h, ByteBuf data) {
        require(h.getUnsignedByte(1) == Opcodes.FINAL, "R2T flags " + hex(h.getUnsignedByte(1)));
        require(data.readableBytes() == 0, "R2T with a data segment");
        require(readItt(h) != Opcodes.RESERVED_TAG, "R2T with the reserved ITT");
        require(h.getInt(20) != Opcodes.RESERVED_TAG, "R2T with the reserved TTT");
        require(h.getInt(44) != 0, "R2T asking for 0 bytes");
        return new ReadyToTransfer(h.getLong(8), readItt(h), h.getInt(20), readStatSN(h), readExpCmdSN(h),
                readMaxCmdSN(h), h.getInt(36), h.getInt(40), h.getInt(44), data);
    }

    @Override
    public ReadyToTransfer replace(ByteBuf content) {
        return new ReadyToTransfer(lun, itt(), ttt, statSN(), expCmdSN(), maxCmdSN(), r2tSN, bufferOffset,
                desiredLength, content);
    }

    @Override
    protected String describe() {
        return "itt=" + hex(itt()) + " ttt=" + hex(ttt) + " r2tSN=" + Integer.toUnsignedString(r2tSN) + " offset="
                + Integer.toUnsignedString(bufferOffset) + " length=" + Integer.toUnsignedString(desiredLength);
    }
}
