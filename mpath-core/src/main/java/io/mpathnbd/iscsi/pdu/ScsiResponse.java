package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;

/**
 * SCSI Response (0x21): iSCSI response code, SCSI status, residuals, and in the data segment a 2-byte SenseLength
 * followed by the sense data (checked to fit when decoded).
 */
public final class ScsiResponse extends TaggedTargetPdu {
    public static final int FLAG_BIDI_OVERFLOW = 0x10;
    public static final int FLAG_BIDI_UNDERFLOW = 0x08;
    public static final int FLAG_OVERFLOW = 0x04;
    public static final int FLAG_UNDERFLOW = 0x02;

    /** Response: command completed at target (SCSI status is meaningful). */
    public static final int COMMAND_COMPLETED = 0x00;
    /** Response: target failure. */
    public static final int TARGET_FAILURE = 0x01;

    private final int flags;
    private final int response;
    private final int status;
    private final int snackTag;
    private final int expDataSN;
    private final int bidiReadResidualCount;
    private final int residualCount;

    /** {@code flags}: the FLAG_ bits (F is implied). {@code data}: SenseLength + sense data, or empty. */
    public ScsiResponse(int flags, int response, int status, int itt, int snackTag, int statSN, int expCmdSN,
            int maxCmdSN, int expDataSN, int bidiReadResidualCount, int residualCount, ByteBuf data) {
        super(itt, statSN, expCmdSN, maxCmdSN, data);
        if ((flags & ~0x1e) != 0) {
            throw new IllegalArgumentException("SCSI Response flags " + hex(flags));
        }
        this.flags = flags;
        this.response = response;
        this.status = status;
        this.snackTag = snackTag;
        this.expDataSN = expDataSN;
        this.bidiReadResidualCount = bidiReadResidualCount;
        this.residualCount = residualCount;
    }

    @Override
    public int opcode() {
        return Opcodes.SCSI_RESPONSE;
    }

    public int flags() {
        return flags;
    }

    public boolean residualOverflow() {
        return (flags & FLAG_OVERFLOW) != 0;
    }

    public boolean residualUnderflow() {
        return (flags & FLAG_UNDERFLOW) != 0;
    }

    public int response() {
        return response;
    }

    public int status() {
        return status;
    }

    public int snackTag() {
        return snackTag;
    }

    /** Number of Data-In PDUs the target sent for this command. */
    public int expDataSN() {
        return expDataSN;
    }

    public int bidiReadResidualCount() {
        return bidiReadResidualCount;
    }

    /** Unsigned; meaningful when {@link #residualOverflow()} or {@link #residualUnderflow()}. */
    public int residualCount() {
        return residualCount;
    }

    /** The sense data as a slice of the data segment (not retained; valid while this PDU is), possibly empty. */
    public ByteBuf senseData() {
        ByteBuf d = data();
        if (d.readableBytes() < 2) {
            return d.slice(d.readerIndex(), 0);
        }
        return d.slice(d.readerIndex() + 2, d.getUnsignedShort(d.readerIndex()));
    }

    @Override
    protected void writeOwnFields(ByteBuf h) {
        h.setByte(1, Opcodes.FINAL | flags);
        h.setByte(2, response);
        h.setByte(3, status);
        h.setInt(20, snackTag);
        h.setInt(36, expDataSN);
        h.setInt(40, bidiReadResidualCount);
        h.setInt(44, residualCount);
    }

    static ScsiResponse read(ByteBuf h, ByteBuf data) {
        int b1 = h.getUnsignedByte(1);
        require((b1 & ~0x1e) == Opcodes.FINAL, "SCSI Response flags " + hex(b1));
        require((b1 & (FLAG_OVERFLOW | FLAG_UNDERFLOW)) != (FLAG_OVERFLOW | FLAG_UNDERFLOW),
                "SCSI Response with both residual overflow and underflow");
        require((b1 & (FLAG_BIDI_OVERFLOW | FLAG_BIDI_UNDERFLOW)) != (FLAG_BIDI_OVERFLOW | FLAG_BIDI_UNDERFLOW),
                "SCSI Response with both bidirectional overflow and underflow");
        require(readItt(h) != Opcodes.RESERVED_TAG, "SCSI Response with the reserved ITT");
        int len = data.readableBytes();
        require(len == 0 || (len >= 2 && data.getUnsignedShort(data.readerIndex()) <= len - 2),
                "SCSI Response sense data does not fit its " + len + "-byte data segment");
        return new ScsiResponse(b1 & 0x1e, h.getUnsignedByte(2), h.getUnsignedByte(3), readItt(h), h.getInt(20),
                readStatSN(h), readExpCmdSN(h), readMaxCmdSN(h), h.getInt(36), h.getInt(40), h.getInt(44), data);
    }

    @Override
    public ScsiResponse replace(ByteBuf content) {
        return new ScsiResponse(flags, response, status, itt(), snackTag, statSN(), expCmdSN(), maxCmdSN(),
                expDataSN, bidiReadResidualCount, residualCount, content);
    }

    @Override
    protected String describe() {
        return "itt=" + hex(itt()) + " response=" + response + " status=" + hex(status) + " flags=" + hex(flags)
                + " residual=" + Integer.toUnsignedString(residualCount) + " statSN="
                + Integer.toUnsignedString(statSN());
    }
}
