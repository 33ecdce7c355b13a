package io.mpathnbd.core.zone;

/** Zone types, with their ZBC codes (REPORT ZONES descriptor byte 0, bits 3-0; Linux's BLK_ZONE_TYPE_* agree). */
public enum ZoneType {
    /** Written anywhere, like a normal disk; has no write pointer. */
    CONVENTIONAL(1),
    /** Written only at its write pointer (host-managed disks). */
    SEQUENTIAL_WRITE_REQUIRED(2),
    /** Should be written at its write pointer, accepts writes anywhere (host-aware disks). */
    SEQUENTIAL_WRITE_PREFERRED(3);

    private final int zbcCode;

    ZoneType(int zbcCode) {
        this.zbcCode = zbcCode;
    }

    public int zbcCode() {
        return zbcCode;
    }

    /** True for the types that have a write pointer. */
    public boolean sequential() {
        return this != CONVENTIONAL;
    }

    /** The type with this ZBC code; {@link IllegalArgumentException} for codes not modelled (4 SOBR, 5 gap). */
    public static ZoneType ofZbcCode(int code) {
        for (ZoneType t : values()) {
            if (t.zbcCode == code) {
                return t;
            }
        }
        throw new IllegalArgumentException("no zone type modelled for ZBC code " + code);
    }
}
