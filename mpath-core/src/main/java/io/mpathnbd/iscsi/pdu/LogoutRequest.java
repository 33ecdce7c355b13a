package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;

/** Logout Request (0x06): close the session, a connection, or a connection for recovery. No data. */
public final class LogoutRequest extends CommandSequencedPdu {
    public static final int CLOSE_SESSION = 0;
    public static final int CLOSE_CONNECTION = 1;
    public static final int REMOVE_CONNECTION_FOR_RECOVERY = 2;

    private final int reason;
    private final int cid;

    public LogoutRequest(boolean immediate, int reason, int itt, int cid, int cmdSN, int expStatSN) {
        this(immediate, reason, itt, cid, cmdSN, expStatSN, null);
    }

    private LogoutRequest(boolean immediate, int reason, int itt, int cid, int cmdSN, int expStatSN, ByteBuf data) {
        super(immediate, itt, cmdSN, expStatSN, data);
        if ((reason & ~0x7f) != 0) {
            throw new IllegalArgumentException("logout reason " + reason);
        }
        this.reason = reason;
        this.cid = cid & 0xffff;
    }

    @Override
    public int opcode() {
        return Opcodes.LOGOUT_REQUEST;
    }

    @Override
    public boolean allowsData() {
        return false;
    }

    public int reason() {
        return reason;
    }

    public int cid() {
        return cid;
    }

    @Override
    protected void writeOwnFields(ByteBuf h) {
        h.setByte(1, Opcodes.FINAL | reason);
        h.setShort(20, reason == CLOSE_SESSION ? 0 : cid);
    }

    static LogoutRequest read(ByteBuf h, boolean immediate, ByteBuf data) {
        int b1 = h.getUnsignedByte(1);
        require((b1 & Opcodes.FINAL) != 0, "Logout Request without the F bit");
        require(data.readableBytes() == 0, "Logout Request with a data segment");
        return new LogoutRequest(immediate, b1 & 0x7f, readItt(h), h.getUnsignedShort(20), readCmdSN(h),
                readExpStatSN(h), data);
    }

    @Override
    public LogoutRequest replace(ByteBuf content) {
        return new LogoutRequest(immediate(), reason, itt(), cid, cmdSN(), expStatSN(), content);
    }

    @Override
    protected String describe() {
        return "reason=" + reason + " itt=" + hex(itt()) + " cid=" + cid;
    }
}
