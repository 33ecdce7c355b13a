package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;

/**
 * SCSI Data-In (0x25): one piece of read data at {@code bufferOffset}, numbered by DataSN. The last PDU of a command
 * may carry the SCSI status (S bit, which requires F) with residuals, replacing the SCSI Response.
 */
public final class DataIn extends TaggedTargetPdu {
    public static final int FLAG_ACKNOWLEDGE = 0x40;
    public static final int FLAG_OVERFLOW = 0x04;
    public static final int FLAG_UNDERFLOW = 0x02;
    public static final int FLAG_STATUS = 0x01;

    private final int flags;
    private final int status;
    private final long lun;
    private final int ttt;
    private final int dataSN;
    private final int bufferOffset;
    private final int residualCount;

    /** {@code flags}: F and the FLAG_ bits as on the wire (byte 1). */
    public DataIn(int flags, int status, long lun, int itt, int ttt, int statSN, int expCmdSN, int maxCmdSN,
            int dataSN, int bufferOffset, int residualCount, ByteBuf data) {
        super(itt, statSN, expCmdSN, maxCmdSN, data);
        String bad = check(flags);
        if (bad != null) {
            throw new IllegalArgumentException(bad);
        }
        this.flags = flags;
        this.status = status & 0xff;
        this.lun = lun;
        this.ttt = ttt;
        this.dataSN = dataSN;
        this.bufferOffset = bufferOffset;
        this.residualCount = residualCount;
    }

    private static String check(int flags) {
        if ((flags & ~(Opcodes.FINAL | FLAG_ACKNOWLEDGE | FLAG_OVERFLOW | FLAG_UNDERFLOW | FLAG_STATUS)) != 0) {
            return "Data-In with reserved flag bits " + hex(flags);
        }
        if ((flags & FLAG_STATUS) != 0 && (flags & Opcodes.FINAL) == 0) {
            return "Data-In with status but without the F bit";
        }
        if ((flags & (FLAG_OVERFLOW | FLAG_UNDERFLOW)) != 0 && (flags & FLAG_STATUS) == 0) {
            return "Data-In with residual flags but without status";
        }
        if ((flags & (FLAG_OVERFLOW | FLAG_UNDERFLOW)) == (FLAG_OVERFLOW | FLAG_UNDERFLOW)) {
            return "Data-In with both residual overflow and underflow";
        }
        return null;
    }

    @Override
    public int opcode() {
        return Opcodes.DATA_IN;
    }

    public int flags() {
        return flags;
    }

    public boolean isFinal() {
        return (flags & Opcodes.FINAL) != 0;
    }

    public boolean acknowledge() {
        return (flags & FLAG_ACKNOWLEDGE) != 0;
    }

    /** The S bit: this PDU ends the command and carries its status; no SCSI Response follows. */
    public boolean hasStatus() {
        return (flags & FLAG_STATUS) != 0;
    }

    public boolean residualOverflow() {
        return (flags & FLAG_OVERFLOW) != 0;
    }

    public boolean residualUnderflow() {
        return (flags & FLAG_UNDERFLOW) != 0;
    }

    /** SCSI status; meaningful with {@link #hasStatus()}. */
    public int status() {
        return status;
    }

    public long lun() {
        return lun;
    }

    public int ttt() {
        return ttt;
    }

    public int dataSN() {
        return dataSN;
    }

    public int bufferOffset() {
        return bufferOffset;
    }

    public int residualCount() {
        return residualCount;
    }

    @Override
    protected void writeOwnFields(ByteBuf h) {
        h.setByte(1, flags);
        h.setByte(3, hasStatus() ? status : 0);
        h.setLong(8, lun);
        h.setInt(20, ttt);
        if (!hasStatus()) {
            h.setInt(24, 0); // StatSN is reserved without the S bit
        }
        h.setInt(36, dataSN);
        h.setInt(40, bufferOffset);
        h.setInt(44, residualCount);
    }

    static DataIn read(ByteBuf h, ByteBuf data) {
        int flags = h.getUnsignedByte(1);
        String bad = check(flags);
        require(bad == null, bad);
        require(readItt(h) != Opcodes.RESERVED_TAG, "Data-In with the reserved ITT");
        return new DataIn(flags, h.getUnsignedByte(3), h.getLong(8), readItt(h), h.getInt(20), readStatSN(h),
                readExpCmdSN(h), readMaxCmdSN(h), h.getInt(36), h.getInt(40), h.getInt(44), data);
    }

    @Override
    public DataIn replace(ByteBuf content) {
        return new DataIn(flags, status, lun, itt(), ttt, statSN(), expCmdSN(), maxCmdSN(), dataSN, bufferOffset,
                residualCount, content);
    }

    @Override
    protected String describe() {
        return "itt=" + hex(itt()) + " flags=" + hex(flags) + " dataSN=" + Integer.toUnsignedString(dataSN)
                + " offset=" + Integer.toUnsignedString(bufferOffset) + (hasStatus() ? " status=" + hex(status) : "");
    }
}
