package io.mpathnbd.core.zone;

/** How a disk exposes zones (Linux's BLK_ZONED_*; SCSI peripheral type 0x14 or VPD 0xB1's ZONED field). */
public enum ZoneModel {
    /** Not zoned, or zones that need no care. */
    NONE,
    /** Sequential-write-preferred zones: writes anywhere are accepted, sequential ones are faster. */
    HOST_AWARE,
    /** Sequential-write-required zones: a write not at the write pointer is refused. */
    HOST_MANAGED
}
