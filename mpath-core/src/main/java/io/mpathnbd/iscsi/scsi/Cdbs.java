package io.mpathnbd.iscsi.scsi;

/**
 * Command descriptor blocks the initiator sends (SPC-4, SBC-3), each as a fresh array of the command's own length.
 * Multi-byte fields are big-endian; the control byte is always 0 (no NACA, no linking).
 */
public final class Cdbs {
    public static final int TEST_UNIT_READY = 0x00;
    public static final int INQUIRY = 0x12;
    public static final int UNMAP = 0x42;
    public static final int READ_16 = 0x88;
    public static final int WRITE_16 = 0x8A;
    public static final int SYNCHRONIZE_CACHE_16 = 0x91;
    public static final int WRITE_SAME_16 = 0x93;
    public static final int SERVICE_ACTION_IN_16 = 0x9E;
    public static final int READ_CAPACITY_16_SA = 0x10;
    public static final int REPORT_LUNS = 0xA0;
    public static final int MAINTENANCE_IN = 0xA3;
    public static final int REPORT_TARGET_PORT_GROUPS_SA = 0x0A;

    public static final int VPD_SUPPORTED_PAGES = 0x00;
    public static final int VPD_UNIT_SERIAL = 0x80;
    public static final int VPD_DEVICE_IDENTIFICATION = 0x83;
    public static final int VPD_BLOCK_LIMITS = 0xB0;
    public static final int VPD_BLOCK_DEVICE_CHARACTERISTICS = 0xB1;
    public static final int VPD_LOGICAL_BLOCK_PROVISIONING = 0xB2;
    public static final int VPD_ZONED_CHARACTERISTICS = 0xB6;
    /** ZBC OUT (ZBC-1 5.x): CLOSE 1, FINISH 2, OPEN 3, RESET WRITE POINTER 4 in byte 1. */
    public static final int ZBC_OUT = 0x94;
    /** ZBC IN; REPORT ZONES is its service action 0. */
    public static final int ZBC_IN = 0x95;
    public static final int REPORT_ZONES_SA = 0x00;

    /** FUA in byte 1 of READ(16)/WRITE(16); UNMAP in byte 1 of WRITE SAME(16). */
    private static final int FUA = 0x08;
    private static final int WRITE_SAME_UNMAP = 0x08;
    /** PARAMETER DATA FORMAT 001b in byte 1 of REPORT TARGET PORT GROUPS: ask for the extended header. */
    private static final int RTPG_EXTENDED_HEADER = 0x20;

    private Cdbs() {
    }

    public static byte[] testUnitReady() {
        return new byte[6];
    }

    /** Standard INQUIRY data; the allocation length is 16 bits since SPC-3. */
    public static byte[] inquiry(int alloc) {
        return inquiry(false, 0, alloc);
    }

    public static byte[] inquiryVpd(int page, int alloc) {
        if (page < 0 || page > 0xff) {
            throw new IllegalArgumentException("VPD page " + page);
        }
        return inquiry(true, page, alloc);
    }

    private static byte[] inquiry(boolean evpd, int page, int alloc) {
        checkRange("allocation length", alloc, 0xffff);
        byte[] cdb = new byte[6];
        cdb[0] = INQUIRY;
        cdb[1] = (byte) (evpd ? 0x01 : 0x00);
        cdb[2] = (byte) page;
        putU16(cdb, 3, alloc);
        return cdb;
    }

    public static byte[] readCapacity16(int alloc) {
        checkRange("allocation length", alloc, Integer.MAX_VALUE);
        byte[] cdb = new byte[16];
        cdb[0] = (byte) SERVICE_ACTION_IN_16;
        cdb[1] = READ_CAPACITY_16_SA;
        putU32(cdb, 10, alloc);
        return cdb;
    }

    public static byte[] read16(long lba, int blocks, boolean fua) {
        return lbaCommand(READ_16, fua ? FUA : 0, lba, blocks);
    }

    public static byte[] write16(long lba, int blocks, boolean fua) {
        return lbaCommand(WRITE_16, fua ? FUA : 0, lba, blocks);
    }

    /** {@code (0, 0)} asks the target to flush the whole medium. */
    public static byte[] synchronizeCache16(long lba, int blocks) {
        return lbaCommand(SYNCHRONIZE_CACHE_16, 0, lba, blocks);
    }

    /** Data-Out carries one block (zeroes for write-zeroes); {@code unmap} lets the target deallocate instead. */
    public static byte[] writeSame16(long lba, int blocks, boolean unmap) {
        return lbaCommand(WRITE_SAME_16, unmap ? WRITE_SAME_UNMAP : 0, lba, blocks);
    }

    /** UNMAP(10); the parameter list comes from {@link UnmapParameters}. */
    public static byte[] unmap(int parameterListLength) {
        checkRange("parameter list length", parameterListLength, 0xffff);
        byte[] cdb = new byte[10];
        cdb[0] = UNMAP;
        putU16(cdb, 7, parameterListLength);
        return cdb;
    }

    /** Length-only header format, which every ALUA target answers. */
    public static byte[] reportTargetPortGroups(int alloc) {
        return reportTargetPortGroups(alloc, false);
    }

    /** {@code extendedHeader}: also ask for the implicit transition time (SPC-4); old targets may reject it. */
    public static byte[] reportTargetPortGroups(int alloc, boolean extendedHeader) {
        checkRange("allocation length", alloc, Integer.MAX_VALUE);
        byte[] cdb = new byte[12];
        cdb[0] = (byte) MAINTENANCE_IN;
        cdb[1] = (byte) (REPORT_TARGET_PORT_GROUPS_SA | (extendedHeader ? RTPG_EXTENDED_HEADER : 0));
        putU32(cdb, 6, alloc);
        return cdb;
    }

    /** SELECT REPORT 0: all logical units. */
    public static byte[] reportLuns(int alloc) {
        checkRange("allocation length", alloc, Integer.MAX_VALUE);
        byte[] cdb = new byte[12];
        cdb[0] = (byte) REPORT_LUNS;
        putU32(cdb, 6, alloc);
        return cdb;
    }

    /**
     * REPORT ZONES from the zone holding {@code zoneStartLba}, reporting option 0 (all zones). PARTIAL stays 0,
     * so the zone list length counts every zone from there on and tells whether more pages are needed.
     */
    public static byte[] reportZones(long zoneStartLba, int alloc) {
        if (zoneStartLba < 0) {
            throw new IllegalArgumentException("zone start LBA " + zoneStartLba);
        }
        checkRange("allocation length", alloc, Integer.MAX_VALUE);
        byte[] cdb = new byte[16];
        cdb[0] = (byte) ZBC_IN;
        cdb[1] = REPORT_ZONES_SA;
        putU32(cdb, 2, zoneStartLba >>> 32);
        putU32(cdb, 6, zoneStartLba);
        putU32(cdb, 10, alloc);
        return cdb;
    }

    /**
     * ZBC OUT with {@code serviceAction} (1..4) on the zone starting at {@code zoneId}, or with the ALL bit (the
     * zone ID is then ignored and sent as 0). Zone count 0 means one zone.
     */
    public static byte[] zbcOut(int serviceAction, long zoneId, boolean all) {
        if (serviceAction < 1 || serviceAction > 4) {
            throw new IllegalArgumentException("ZBC OUT service action " + serviceAction);
        }
        if (zoneId < 0) {
            throw new IllegalArgumentException("zone ID " + zoneId);
        }
        byte[] cdb = new byte[16];
        cdb[0] = (byte) ZBC_OUT;
        cdb[1] = (byte) serviceAction;
        long id = all ? 0 : zoneId;
        putU32(cdb, 2, id >>> 32);
        putU32(cdb, 6, id);
        cdb[14] = (byte) (all ? 0x01 : 0x00);
        return cdb;
    }

    private static byte[] lbaCommand(int opcode, int byte1, long lba, int blocks) {
        if (lba < 0) {
            throw new IllegalArgumentException("LBA " + lba);
        }
        checkRange("block count", blocks, Integer.MAX_VALUE);
        byte[] cdb = new byte[16];
        cdb[0] = (byte) opcode;
        cdb[1] = (byte) byte1;
        putU32(cdb, 2, lba >>> 32);
        putU32(cdb, 6, lba);
        putU32(cdb, 10, blocks);
        return cdb;
    }

    private static void checkRange(String what, int value, int max) {
        if (value < 0 || value > max) {
            throw new IllegalArgumentException(what + " " + value + " out of range 0.." + max);
        }
    }

    private static void putU16(byte[] cdb, int at, int value) {
        cdb[at] = (byte) (value >>> 8);
        cdb[at + 1] = (byte) value;
    }

    private static void putU32(byte[] cdb, int at, long value) {
        cdb[at] = (byte) (value >>> 24);
        cdb[at + 1] = (byte) (value >>> 16);
        cdb[at + 2] = (byte) (value >>> 8);
        cdb[at + 3] = (byte) value;
    }
}
