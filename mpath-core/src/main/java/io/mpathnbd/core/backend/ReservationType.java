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

    /** The name in config, CLI and admin API: {@code write-exclusive-registrants-only}. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    /** The type named {@code label} (see {@link #label()}); null for a name no type has. */
    public static ReservationType ofLabel(String label) {
        for (ReservationType t : values()) {
            if (t.label().equals(label)) {
                return t;
            }
        }
        return null;
    }

    /** Every type's label, in SPC code order. */
    public static java.util.List<String> labels() {
        return java.util.Arrays.stream(values()).map(ReservationType::label).toList();
    }

    /** Registrants-only and all-registrants types: only these fence an unregistered nexus from writing. */
    public boolean forRegistrants() {
        return spcCode >= 5;
    }
}
