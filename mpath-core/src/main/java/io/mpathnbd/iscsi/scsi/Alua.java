package io.mpathnbd.iscsi.scsi;

import io.mpathnbd.core.backend.AccessState;

/** Asymmetric access states (SPC-4 6.36) and their meaning for the core. */
public final class Alua {
    public static final int ACTIVE_OPTIMIZED = 0x0;
    public static final int ACTIVE_NON_OPTIMIZED = 0x1;
    public static final int STANDBY = 0x2;
    public static final int UNAVAILABLE = 0x3;
    public static final int LBA_DEPENDENT = 0x4;
    public static final int OFFLINE = 0xE;
    public static final int TRANSITIONING = 0xF;

    private Alua() {
    }

    /**
     * LBA-dependent counts as non-optimized: it carries I/O, and the per-LBA detail is beyond a path selector.
     * Reserved values are treated as unavailable so an unknown state never attracts I/O.
     */
    public static AccessState toAccessState(int aluaState) {
        switch (aluaState) {
            case ACTIVE_OPTIMIZED: return AccessState.OPTIMIZED;
            case ACTIVE_NON_OPTIMIZED: return AccessState.NON_OPTIMIZED;
            case STANDBY: return AccessState.STANDBY;
            case UNAVAILABLE: return AccessState.UNAVAILABLE;
            case LBA_DEPENDENT: return AccessState.NON_OPTIMIZED;
            case OFFLINE: return AccessState.OFFLINE;
            case TRANSITIONING: return AccessState.TRANSITIONING;
            default: return AccessState.UNAVAILABLE;
        }
    }

    public static String name(int aluaState) {
        switch (aluaState) {
            case ACTIVE_OPTIMIZED: return "active/optimized";
            case ACTIVE_NON_OPTIMIZED: return "active/non-optimized";
            case STANDBY: return "standby";
            case UNAVAILABLE: return "unavailable";
            case LBA_DEPENDENT: return "lba-dependent";
            case OFFLINE: return "offline";
            case TRANSITIONING: return "transitioning";
            default: return String.format("reserved 0x%x", aluaState);
        }
    }
}
