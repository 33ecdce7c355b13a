package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;

/** Logout Response (0x26): response code and, for recovery, Time2Wait/Time2Retain. No data. */
public final class LogoutResponse extends IscsiPdu {
    public static final int CLOSED_SUCCESSFULLY = 0;
    public static final int CID_NOT_FOUND = 1;
    public static final int RECOVERY_NOT_SUPPORTED = 2;
    public static final int CLEANUP_FAILED = 3;

    private final int response;
    private final int itt;
    private final int statSN;
    private final int expCmdSN;
    private final int maxCmdSN;
    private final int time2Wait;
    private final int time2Retain;

    public LogoutResponse(int response, int itt, int statSN, int expCmdSN, int maxCmdSN, int time2Wait,
            int time2Retain) {
        this(response, itt, statSN, expCmdSN, maxCmdSN, time2Wait, time2Retain, null);
    }

    private LogoutResponse(int response, int itt, int statSN, int expCmdSN, int maxCmdSN, int time2Wait,
            int time2Retain, ByteBuf data) {
        super(false, data);
        this.response = response & 0xff;
        this.itt = itt;
        this.statSN = statSN;
        this.expCmdSN = expCmdSN;
        this.maxCmdSN = maxCmdSN;
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

    public int itt() {
        return itt;
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

    public int time2Wait() {
        return time2Wait;
    }

    public int time2Retain() {
        return time2Retain;
    }

    @Override
    protected void writeFields(ByteBuf h) {
        h.setByte(1, Opcodes.FINAL);
        h.setByte(2, response);
        h.setInt(16, itt);
        h.setInt(24, statSN);
        h.setInt(28, expCmdSN);
        h.setInt(32, maxCmdSN);
        h.setShort(40, time2Wait);
        h.setShort(42, time2Retain);
    }

    static LogoutResponse read(ByteBuf h, ByteBuf data) {
        require(h.getUnsignedByte(1) == Opcodes.FINAL, "Logout Response flags " + hex(h.getUnsignedByte(1)));
        require(data.readableBytes() == 0, "Logout Response with a data segment");
        return new LogoutResponse(h.getUnsignedByte(2), h.getInt(16), h.getInt(24), h.getInt(28), h.getInt(32),
                h.getUnsignedShort(40), h.getUnsignedShort(42), data);
    }

    @Override
    public LogoutResponse replace(ByteBuf content) {
        return new LogoutResponse(response, itt, statSN, expCmdSN, maxCmdSN, time2Wait, time2Retain, content);
    }

    @Override
    protected String describe() {
        return "response=" + response + " itt=" + hex(itt);
    }
}
