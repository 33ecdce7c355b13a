package io.mpathnbd.core.backend;

/** Persistent reservation types, with their SPC-4 type codes (Linux's pr_type numbers differ). */
public enum ReservationType {
    WRITE_EXCLUSIVE(1),
    EXCLUSIVE_ACCESS(3),
    WRITE_EXCLUSIVE_REGISTRANTS_ONLY(5),
    EXCLUSIVE_ACCESS_REGISTRANTS_ONLY(6),
    WRITE_EXCLUSIVE_ALL_REGISTRANTS(7),
    EXCLUSIVE_ACCESS_ALL_REGISTRANTS(8);

    private final int spcCode;

    ReservationType(int spcCode) {
        this.spcCode = spcCode;
    }

    /** The TYPE field of PERSISTENT RESERVE OUT and of READ RESERVATION's descriptor. */
    public int spcCode() {
        return spcCode;
    }

    /** The type with this SPC code; {@link IllegalArgumentException} for a code SPC-4 does not define. */
    public static ReservationType ofSpcCode(int code) {
        for (ReservationType t : values()) {
            if (t.spcCode == code) {
                return t;
            }
        }
        throw new IllegalArgumentException("no persistent reservation type has SPC code " + code);
    }

    /** Registrants-only and all-registrants types: only these fence an unregistered nexus from writing. */
    public boolean forRegistrants() {
        return spcCode >= 5;
    }
}
