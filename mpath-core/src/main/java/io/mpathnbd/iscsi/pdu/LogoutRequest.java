package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;

/** Logout Request (0x06): close the session, a connection, or a connection for recovery. No data. */
public final class LogoutRequest extends IscsiPdu {
    public static final int CLOSE_SESSION = 0;
    public static final int CLOSE_CONNECTION = 1;
    public static final int REMOVE_CONNECTION_FOR_RECOVERY = 2;

    private final int reason;
    private final int itt;
    private final int cid;
    private final int cmdSN;
    private final int expStatSN;

    public LogoutRequest(boolean immediate, int reason, int itt, int cid, int cmdSN, int expStatSN) {
        this(immediate, reason, itt, cid, cmdSN, expStatSN, null);
    }

    private LogoutRequest(boolean immediate, int reason, int itt, int cid, int cmdSN, int expStatSN, ByteBuf data) {
        super(immediate, data);
        if ((reason & ~0x7f) != 0) {
            throw new IllegalArgumentException("logout reason " + reason);
        }
        this.reason = reason;
        this.itt = itt;
        this.cid = cid & 0xffff;
        this.cmdSN = cmdSN;
        this.expStatSN = expStatSN;
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

    public int itt() {
        return itt;
    }

    public int cid() {
        return cid;
    }

    public int cmdSN() {
        return cmdSN;
    }

    public int expStatSN() {
        return expStatSN;
    }

    @Override
    protected void writeFields(ByteBuf h) {
        h.setByte(1, Opcodes.FINAL | reason);
        h.setInt(16, itt);
        h.setShort(20, reason == CLOSE_SESSION ? 0 : cid);
        h.setInt(24, cmdSN);
        h.setInt(28, expStatSN);
    }

    static LogoutRequest read(ByteBuf h, boolean immediate, ByteBuf data) {
        int b1 = h.getUnsignedByte(1);
        require((b1 & Opcodes.FINAL) != 0, "Logout Request without the F bit");
        require(data.readableBytes() == 0, "Logout Request with a data segment");
        return new LogoutRequest(immediate, b1 & 0x7f, h.getInt(16), h.getUnsignedShort(20), h.getInt(24),
                h.getInt(28), data);
    }

    @Override
    public LogoutRequest replace(ByteBuf content) {
        return new LogoutRequest(immediate(), reason, itt, cid, cmdSN, expStatSN, content);
    }

    @Override
    protected String describe() {
        return "reason=" + reason + " itt=" + hex(itt) + " cid=" + cid;
    }
}
