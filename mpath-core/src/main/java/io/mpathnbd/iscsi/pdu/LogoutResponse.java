package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;

/** Logout Response (0x26): response code and, for recovery, Time2Wait/Time2Retain. No data. */
public final class LogoutResponse extends TaggedTargetPdu {
    public static final int CLOSED_SUCCESSFULLY = 0;
    public static final int CID_NOT_FOUND = 1;
    public static final int RECOVERY_NOT_SUPPORTED = 2;
    public static final int CLEANUP_FAILED = 3;

    private final int response;
    private final int time2Wait;
    private final int time2Retain;

    public LogoutResponse(int response, int itt, int statSN, int expCmdSN, int maxCmdSN, int time2Wait,
            int time2Retain) {
        this(response, itt, statSN, expCmdSN, maxCmdSN, time2Wait, time2Retain, null);
    }

    private LogoutResponse(int response, int itt, int statSN, int expCmdSN, int maxCmdSN, int time2Wait,
            int time2Retain, ByteBuf data) {
        super(itt, statSN, expCmdSN, maxCmdSN, data);
        this.response = response & 0xff;
        this.time2Wait = time2Wait & 0xffff;
        this.time2Retain = time2Retain & 0xffff;
    }

    @Override
    public int opcode() {
        return Opcodes.LOGOUT_RESPONSE;
    }

    @Override
    public boolean allowsData() {
        return false;
    }

    public int response() {
        return response;
    }

    public int time2Wait() {
        return time2Wait;
    }

    public int time2Retain() {
        return time2Retain;
    }

    @Override
    protected void writeOwnFields(ByteBuf h) {
        h.setByte(1, Opcodes.FINAL);
        h.setByte(2, response);
        h.setShort(40, time2Wait);
        h.setShort(42, time2Retain);
    }

    static LogoutResponse read(ByteBuf h, ByteBuf data) {
        require(h.getUnsignedByte(1) == Opcodes.FINAL, "Logout Response flags " + hex(h.getUnsignedByte(1)));
        require(data.readableBytes() == 0, "Logout Response with a data segment");
        return new LogoutResponse(h.getUnsignedByte(2), readItt(h), readStatSN(h), readExpCmdSN(h),
                readMaxCmdSN(h), h.getUnsignedShort(40), h.getUnsignedShort(42), data);
    }

    @Override
    public LogoutResponse replace(ByteBuf content) {
        return new LogoutResponse(response, itt(), statSN(), expCmdSN(), maxCmdSN(), time2Wait, time2Retain,
                content);
    }

    @Override
    protected String describe() {
        return "response=" + response + " itt=" + hex(itt());
    }
}
