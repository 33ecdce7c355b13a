package io.mpathnbd.iscsi.pdu;

/** Login stages as carried in the CSG and NSG fields. */
public final class LoginStage {
    public static final int SECURITY_NEGOTIATION = 0;
    public static final int OPERATIONAL_NEGOTIATION = 1;
    public static final int FULL_FEATURE_PHASE = 3;

    private LoginStage() {
    }

    static boolean valid(int stage) {
        return stage == SECURITY_NEGOTIATION || stage == OPERATIONAL_NEGOTIATION || stage == FULL_FEATURE_PHASE;
    }

    /** Byte 1 of Login Request and Response: T, C, CSG (bits 3-2), NSG (bits 1-0). */
    static int flags(boolean transit, boolean cont, int csg, int nsg) {
        if (!valid(csg) || csg == FULL_FEATURE_PHASE) {
            throw new IllegalArgumentException("current stage " + csg);
        }
        if (transit && (!valid(nsg) || nsg <= csg)) {
            throw new IllegalArgumentException("transit from stage " + csg + " to " + nsg);
        }
        if (transit && cont) {
            throw new IllegalArgumentException("login PDU with both T and C");
        }
        return (transit ? Opcodes.FINAL : 0) | (cont ? Opcodes.CONTINUE : 0) | (csg << 2) | (transit ? nsg : 0);
    }

    /** Checks byte 1 of a received Login PDU. */
    static void check(int flags, String what) {
        boolean transit = (flags & Opcodes.FINAL) != 0;
        boolean cont = (flags & Opcodes.CONTINUE) != 0;
        int csg = (flags >> 2) & 3;
        int nsg = flags & 3;
        IscsiPdu.require((flags & 0x30) == 0, what + " with reserved flag bits " + IscsiPdu.hex(flags));
        IscsiPdu.require(!(transit && cont), what + " with both T and C");
        IscsiPdu.require(valid(csg) && csg != FULL_FEATURE_PHASE, what + " with current stage " + csg);
        IscsiPdu.require(!transit || (valid(nsg) && nsg > csg),
                what + " transiting from stage " + csg + " to " + nsg);
    }
}
