package io.mpathnbd.iscsi.scsi;

/** Readable names for the additional sense codes the classifier acts on, for log messages. */
final class AdditionalSense {
    private AdditionalSense() {
    }

    /** " (text)" for a known ASC/ASCQ, "" otherwise. */
    static String describe(int asc, int ascq) {
        String text = text(asc, ascq);
        return text == null ? "" : " (" + text + ")";
    }

    private static String text(int asc, int ascq) {
        switch ((asc << 8) | ascq) {
            case 0x0401: return "becoming ready";
            case 0x0402: return "initializing command required";
            case 0x0403: return "manual intervention required";
            case 0x040A: return "asymmetric access state transition";
            case 0x040B: return "target port in standby state";
            case 0x040C: return "target port in unavailable state";
            case 0x1100: return "unrecovered read error";
            case 0x2000: return "invalid command operation code";
            case 0x2100: return "logical block address out of range";
            case 0x2400: return "invalid field in CDB";
            case 0x2500: return "logical unit not supported";
            case 0x2600: return "invalid field in parameter list";
            case 0x2700: return "write protected";
            case 0x2707: return "space allocation failed write protect";
            case 0x2900: return "power on, reset, or bus device reset occurred";
            case 0x2903: return "bus device reset function occurred";
            case 0x2A01: return "mode parameters changed";
            case 0x2A03: return "reservations preempted";
            case 0x2A04: return "reservations released";
            case 0x2A05: return "registrations preempted";
            case 0x2A06: return "asymmetric access state changed";
            case 0x2A07: return "implicit asymmetric access state transition failed";
            case 0x2A09: return "capacity data has changed";
            case 0x3A00: return "medium not present";
            case 0x3F0E: return "reported luns data has changed";
            case 0x4700: return "scsi parity error";
            case 0x4B00: return "data phase error";
            default: return asc == 0x29 ? "reset occurred" : null;
        }
    }
}
