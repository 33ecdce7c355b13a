package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;

/**
 * Login Response (0x23): stage flags, the target's version, the session's ISID and (at the end of a successful
 * leading login) its TSIH, the status class and detail, and the target's key=value text.
 */
public final class LoginResponse extends TaggedTargetPdu {
    public static final int CLASS_SUCCESS = 0;
    public static final int CLASS_REDIRECTION = 1;
    public static final int CLASS_INITIATOR_ERROR = 2;
    public static final int CLASS_TARGET_ERROR = 3;

    private final boolean transit;
    private final boolean cont;
    private final int csg;
    private final int nsg;
    private final int versionMax;
    private final int versionActive;
    private final long isid;
    private final int tsih;
    private final int statusClass;
    private final int statusDetail;

    public LoginResponse(boolean transit, boolean cont, int csg, int nsg, int versionMax, int versionActive, long isid,
            int tsih, int itt, int statSN, int expCmdSN, int maxCmdSN, int statusClass, int statusDetail,
            ByteBuf data) {
        super(itt, statSN, expCmdSN, maxCmdSN, data);
        LoginStage.flags(transit, cont, csg, nsg); // validates
        if ((isid >>> 48) != 0) {
            throw new IllegalArgumentException("ISID wider than 48 bits: " + Long.toHexString(isid));
        }
        this.transit = transit;
        this.cont = cont;
        this.csg = csg;
        this.nsg = transit ? nsg : 0;
        this.versionMax = versionMax;
        this.versionActive = versionActive;
        this.isid = isid;
        this.tsih = tsih & 0xffff;
        this.statusClass = statusClass & 0xff;
        this.statusDetail = statusDetail & 0xff;
    }

    @Override
    public int opcode() {
        return Opcodes.LOGIN_RESPONSE;
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

    public int nextStage() {
        return nsg;
    }

    public int versionMax() {
        return versionMax;
    }

    public int versionActive() {
        return versionActive;
    }

    public long isid() {
        return isid;
    }

    public int tsih() {
        return tsih;
    }

    public int statusClass() {
        return statusClass;
    }

    public int statusDetail() {
        return statusDetail;
    }

    public boolean succeeded() {
        return statusClass == CLASS_SUCCESS;
    }

    @Override
    protected void writeOwnFields(ByteBuf h) {
        h.setByte(1, LoginStage.flags(transit, cont, csg, nsg));
        h.setByte(2, versionMax);
        h.setByte(3, versionActive);
        h.setShort(8, (int) (isid >>> 32));
        h.setInt(10, (int) isid);
        h.setShort(14, tsih);
        h.setByte(36, statusClass);
        h.setByte(37, statusDetail);
    }

    static LoginResponse read(ByteBuf h, ByteBuf data) {
        int flags = h.getUnsignedByte(1);
        LoginStage.check(flags, "Login Response");
        long isid = ((long) h.getUnsignedShort(8) << 32) | h.getUnsignedInt(10);
        return new LoginResponse((flags & Opcodes.FINAL) != 0, (flags & Opcodes.CONTINUE) != 0, (flags >> 2) & 3,
                flags & 3, h.getUnsignedByte(2), h.getUnsignedByte(3), isid, h.getUnsignedShort(14), readItt(h),
                readStatSN(h), readExpCmdSN(h), readMaxCmdSN(h), h.getUnsignedByte(36), h.getUnsignedByte(37), data);
    }

    @Override
    public LoginResponse replace(ByteBuf content) {
        return new LoginResponse(transit, cont, csg, nsg, versionMax, versionActive, isid, tsih, itt(), statSN(),
                expCmdSN(), maxCmdSN(), statusClass, statusDetail, content);
    }

    @Override
    protected String describe() {
        return "status=" + statusClass + "/" + statusDetail + " csg=" + csg + (transit ? " T nsg=" + nsg : "")
                + (cont ? " C" : "") + " tsih=" + tsih + " itt=" + hex(itt());
    }
}
