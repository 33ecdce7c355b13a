package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;

/**
 * Asynchronous Message (0x32): a SCSI event (sense data in the data segment, as in a SCSI Response), or a request to
 * log out, a dropped connection or session, or a request to renegotiate. The parameters' meaning depends on the event.
 */
public final class AsyncMessage extends TargetPdu {
    public static final int SCSI_EVENT = 0;
    public static final int LOGOUT_REQUESTED = 1;
    public static final int CONNECTION_DROPPED = 2;
    public static final int SESSION_DROPPED = 3;
    public static final int NEGOTIATION_REQUESTED = 4;
    public static final int TASK_TERMINATION = 5;
    public static final int VENDOR_SPECIFIC = 255;

    private final long lun;
    private final int event;
    private final int vendorCode;
    private final int parameter1;
    private final int parameter2;
    private final int parameter3;

    public AsyncMessage(long lun, int statSN, int expCmdSN, int maxCmdSN, int event, int vendorCode, int parameter1,
            int parameter2, int parameter3, ByteBuf data) {
        super(statSN, expCmdSN, maxCmdSN, data);
        this.lun = lun;
        this.event = event & 0xff;
        this.vendorCode = vendorCode & 0xff;
        this.parameter1 = parameter1 & 0xffff;
        this.parameter2 = parameter2 & 0xffff;
        this.parameter3 = parameter3 & 0xffff;
    }

    @Override
    public int opcode() {
        return Opcodes.ASYNC_MESSAGE;
    }

    public long lun() {
        return lun;
    }

    public int event() {
        return event;
    }

    public int vendorCode() {
        return vendorCode;
    }

    /** For LOGOUT_REQUESTED: seconds to log out within; for drops: the CID affected. */
    public int parameter1() {
        return parameter1;
    }

    /** For drops: Time2Wait. */
    public int parameter2() {
        return parameter2;
    }

    /** For drops: Time2Retain. */
    public int parameter3() {
        return parameter3;
    }

    @Override
    protected void writeOwnFields(ByteBuf h) {
        h.setByte(1, Opcodes.FINAL);
        h.setLong(8, lun);
        h.setInt(16, Opcodes.RESERVED_TAG);
        h.setByte(36, event);
        h.setByte(37, vendorCode);
        h.setShort(38, parameter1);
        h.setShort(40, parameter2);
        h.setShort(42, parameter3);
    }

    static AsyncMessage read(ByteBuf h, ByteBuf data) {
        require(h.getUnsignedByte(1) == Opcodes.FINAL, "Asynchronous Message flags " + hex(h.getUnsignedByte(1)));
        require(h.getInt(16) == Opcodes.RESERVED_TAG, "Asynchronous Message with ITT " + hex(h.getInt(16)));
        return new AsyncMessage(h.getLong(8), readStatSN(h), readExpCmdSN(h), readMaxCmdSN(h),
                h.getUnsignedByte(36), h.getUnsignedByte(37), h.getUnsignedShort(38), h.getUnsignedShort(40),
                h.getUnsignedShort(42), data);
    }

    @Override
    public AsyncMessage replace(ByteBuf content) {
        return new AsyncMessage(lun, statSN(), expCmdSN(), maxCmdSN(), event, vendorCode, parameter1, parameter2,
                parameter3, content);
    }

    @Override
    protected String describe() {
        return "event=" + event + " p1=" + parameter1 + " p2=" + parameter2 + " p3=" + parameter3;
    }
}
