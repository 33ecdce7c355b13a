package io.mpathnbd.core.zone;

/**
 * Zone conditions, with their ZBC codes (REPORT ZONES descriptor byte 1, bits 7-4; Linux's BLK_ZONE_COND_* agree)
 * and util-linux {@code blkzone}'s short names. INACTIVE (5) is not modelled: no host-managed ZBC disk we relay
 * reports it.
 */
public enum ZoneCondition {
    /** A conventional zone: no write pointer. */
    NOT_WRITE_POINTER(0x0, "nw"),
    EMPTY(0x1, "em"),
    /** Opened by a write; the disk may close it to open another. */
    IMPLICIT_OPEN(0x2, "oi"),
    /** Opened by OPEN ZONE; stays open until closed, finished or reset. */
    EXPLICIT_OPEN(0x3, "oe"),
    CLOSED(0x4, "cl"),
    READ_ONLY(0xD, "ro"),
    FULL(0xE, "fu"),
    OFFLINE(0xF, "of");

    private final int zbcCode;
    private final String shortName;

    ZoneCondition(int zbcCode, String shortName) {
        this.zbcCode = zbcCode;
        this.shortName = shortName;
    }

    public int zbcCode() {
        return zbcCode;
    }

    /** blkzone's abbreviation ({@code zcond: 1(em)}). */
    public String shortName() {
        return shortName;
    }

    /** Implicitly or explicitly open: counts against the disk's maximum of open zones. */
    public boolean open() {
        return this == IMPLICIT_OPEN || this == EXPLICIT_OPEN;
    }

    /** The conditions in which the write pointer is where the next write must start. */
    public boolean hasWritePointer() {
        return this == EMPTY || this == IMPLICIT_OPEN || this == EXPLICIT_OPEN || this == CLOSED;
    }

    /** The condition with this ZBC code; {@link IllegalArgumentException} for codes not modelled. */
    public static ZoneCondition ofZbcCode(int code) {
        for (ZoneCondition c : values()) {
            if (c.zbcCode == code) {
                return c;
            }
        }
        throw new IllegalArgumentException("no zone condition modelled for ZBC code " + code);
    }
}
