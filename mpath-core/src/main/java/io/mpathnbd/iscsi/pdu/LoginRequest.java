package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;

/**
 * Login Request (0x03, always immediate): stage transition flags, ISID (48 bits) and TSIH identifying the session,
 * CID, and the key=value text of this login step in the data segment ({@link TextKeys}).
 */
public final class LoginRequest extends CommandSequencedPdu {
    private final boolean transit;
    private final boolean cont;
    private final int csg;
    private final int nsg;
    private final int versionMax;
    private final int versionMin;
    private final long isid;
    private final int tsih;
    private final int cid;

    public LoginRequest(boolean transit, boolean cont, int csg, int nsg, int versionMax, int versionMin, long isid,
            int tsih, int itt, int cid, int cmdSN, int expStatSN, ByteBuf data) {
        super(true, itt, cmdSN, expStatSN, data);
        LoginStage.flags(transit, cont, csg, nsg); // validates
        if ((isid >>> 48) != 0) {
            throw new IllegalArgumentException("ISID wider than 48 bits: " + Long.toHexString(isid));
        }
        this.transit = transit;
        this.cont = cont;
        this.csg = csg;
        this.nsg = transit ? nsg : 0;
        this.versionMax = versionMax;
        this.versionMin = versionMin;
        this.isid = isid;
        this.tsih = tsih & 0xffff;
        this.cid = cid & 0xffff;
    }

    @Override
    public int opcode() {
        return Opcodes.LOGIN_REQUEST;
    }

    public boolean transit() {
        return transit;
    }

    public boolean isContinue() {
        return cont;
    }

    public int currentStage() {
        return csg;
    }

    /** Meaningful only with {@link #transit()}; 0 otherwise. */
    public int nextStage() {
        return nsg;
    }

    public int versionMax() {
        return versionMax;
    }

    public int versionMin() {
        return versionMin;
    }

    /** The 6-byte ISID in the low 48 bits. */
    public long isid() {
        return isid;
    }

    public int tsih() {
        return tsih;
    }

    public int cid() {
        return cid;
    }

    @Override
    protected void writeOwnFields(ByteBuf h) {
        h.setByte(1, LoginStage.flags(transit, cont, csg, nsg));
        h.setByte(2, versionMax);
        h.setByte(3, versionMin);
        h.setShort(8, (int) (isid >>> 32));
        h.setInt(10, (int) isid);
        h.setShort(14, tsih);
        h.setShort(20, cid);
    }

    static LoginRequest read(ByteBuf h, boolean immediate, ByteBuf data) {
        require(immediate, "Login Request without the immediate bit");
        int flags = h.getUnsignedByte(1);
        LoginStage.check(flags, "Login Request");
        long isid = ((long) h.getUnsignedShort(8) << 32) | h.getUnsignedInt(10);
        return new LoginRequest((flags & Opcodes.FINAL) != 0, (flags & Opcodes.CONTINUE) != 0, (flags >> 2) & 3,
                flags & 3, h.getUnsignedByte(2), h.getUnsignedByte(3), isid, h.getUnsignedShort(14), readItt(h),
                h.getUnsignedShort(20), readCmdSN(h), readExpStatSN(h), data);
    }

    @Override
    public LoginRequest replace(ByteBuf content) {
        return new LoginRequest(transit, cont, csg, nsg, versionMax, versionMin, isid, tsih, itt(), cid, cmdSN(),
                expStatSN(), content);
    }

    @Override
    protected String describe() {
        return "csg=" + csg + (transit ? " T nsg=" + nsg : "") + (cont ? " C" : "") + " isid="
                + Long.toHexString(isid) + " tsih=" + tsih + " itt=" + hex(itt()) + " cmdSN="
                + Integer.toUnsignedString(cmdSN());
    }
}
