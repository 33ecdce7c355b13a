package io.mpathnbd.iscsi.scsi;

/** SCSI status byte values (SAM-5). */
public final class ScsiStatus {
    public static final int GOOD = 0x00;
    public static final int CHECK_CONDITION = 0x02;
    public static final int CONDITION_MET = 0x04;
    public static final int BUSY = 0x08;
    public static final int RESERVATION_CONFLICT = 0x18;
    public static final int TASK_SET_FULL = 0x28;
    public static final int ACA_ACTIVE = 0x30;
    public static final int TASK_ABORTED = 0x40;

    private ScsiStatus() {
    }

    public static String name(int status) {
        switch (status) {
            case GOOD: return "GOOD";
            case CHECK_CONDITION: return "CHECK CONDITION";
            case CONDITION_MET: return "CONDITION MET";
            case BUSY: return "BUSY";
            case RESERVATION_CONFLICT: return "RESERVATION CONFLICT";
            case TASK_SET_FULL: return "TASK SET FULL";
            case ACA_ACTIVE: return "ACA ACTIVE";
            case TASK_ABORTED: return "TASK ABORTED";
            default: return String.format("status 0x%02x", status);
        }
    }
}
