package io.mpathnbd.core.zone;

/**
 * Why a zoned disk refuses a command: the disk's own answer, so a target error wherever it comes from (another path
 * would answer the same). Each carries the ZBC sense it is reported with (sense key ILLEGAL REQUEST, or DATA
 * PROTECT for a read-only zone, NOT READY for an offline one), so a SCSI classifier and an emulated target agree.
 * The errno a client sees is chosen where failures are built ({@code Failure.zone}).
 */
public enum ZoneError {
    /** A write not at a sequential-write-required zone's write pointer, or into a full zone: 21/04. */
    UNALIGNED_WRITE(0x05, 0x21, 0x04),
    /** A write that crosses the end of a sequential zone's capacity (or from one zone type into another): 21/05. */
    BOUNDARY_VIOLATION(0x05, 0x21, 0x05),
    /** A write or management command on a zone in READ ONLY condition: 27/08. */
    ZONE_READ_ONLY(0x07, 0x27, 0x08),
    /** Any access to a zone in OFFLINE condition: 2C/0E. */
    ZONE_OFFLINE(0x02, 0x2C, 0x0E),
    /** Opening a zone would exceed the maximum of open zones and no implicitly open zone can be closed: 55/0E. */
    INSUFFICIENT_ZONE_RESOURCES(0x05, 0x55, 0x0E),
    /**
     * A management command that names no zone start, a conventional zone, a range beyond the disk, or an access not
     * on the disk's logical blocks: 24/00 INVALID FIELD IN CDB.
     */
    INVALID_REQUEST(0x05, 0x24, 0x00);

    private final int senseKey;
    private final int asc;
    private final int ascq;

    ZoneError(int senseKey, int asc, int ascq) {
        this.senseKey = senseKey;
        this.asc = asc;
        this.ascq = ascq;
    }

    public int senseKey() {
        return senseKey;
    }

    public int asc() {
        return asc;
    }

    public int ascq() {
        return ascq;
    }

    /**
     * The zone error a sense ASC/ASCQ reports, or null if it is not a zone error (24/00 is not one: it is any
     * invalid field, so a classifier maps it to EINVAL as it already does).
     */
    public static ZoneError ofSense(int asc, int ascq) {
        for (ZoneError e : values()) {
            if (e != INVALID_REQUEST && e.asc == asc && e.ascq == ascq) {
                return e;
            }
        }
        return null;
    }
}
