package io.mpathnbd.iscsi.scsi;

import io.netty.buffer.ByteBuf;

/**
 * VPD page 0xB6 (zoned block device characteristics, ZBC-1) and the ZONED field of page 0xB1: what tells a zoned
 * unit and its limit of open zones.
 *
 * @param unrestrictedReads URSWRZ: reads past a write pointer are allowed
 * @param maxOpenSequentialRequired the maximum number of open sequential-write-required zones; 0xFFFFFFFF (or 0)
 *     means no limit is reported
 */
public record ZonedCharacteristics(boolean unrestrictedReads, long maxOpenSequentialRequired) {
    /** ZONED field of VPD 0xB1: not reported, host-aware, device-managed. */
    public static final int ZONED_NOT_REPORTED = 0;
    public static final int ZONED_HOST_AWARE = 1;
    public static final int ZONED_DEVICE_MANAGED = 2;

    public static ZonedCharacteristics parse(ByteBuf data) {
        Vpd.open(data, Cdbs.VPD_ZONED_CHARACTERISTICS, 20, "zoned block device characteristics VPD page");
        return new ZonedCharacteristics((Bytes.u8(data, 4) & 0x01) != 0, Bytes.u32(data, 16));
    }

    /** True when no limit of open zones is reported. */
    public boolean unlimitedOpen() {
        return maxOpenSequentialRequired == 0 || maxOpenSequentialRequired == 0xFFFF_FFFFL;
    }

    /** The ZONED field (byte 8, bits 5-4) of a block device characteristics VPD page (0xB1). */
    public static int zonedField(ByteBuf data) {
        Vpd.open(data, Cdbs.VPD_BLOCK_DEVICE_CHARACTERISTICS, 9, "block device characteristics VPD page");
        return (Bytes.u8(data, 8) >>> 4) & 0x03;
    }
}
