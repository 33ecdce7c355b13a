package io.mpathnbd.iscsi.scsi;

import io.mpathnbd.core.zone.Zone;
import io.mpathnbd.core.zone.ZoneCondition;
import io.mpathnbd.core.zone.ZoneType;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * One REPORT ZONES answer (ZBC-1): a 64-byte header (zone list length, SAME, maximum LBA), then 64-byte zone
 * descriptors, converted to bytes with the unit's logical block size. A page holds what the allocation length
 * allowed; {@link #listedZones()} says how many the target has from the requested start on, so the caller knows
 * whether to ask again from after the last zone here.
 *
 * @param listedZones zones the target lists from the requested start (zone list length / 64)
 * @param maxLba the unit's last LBA
 * @param zones the descriptors that arrived, in order, in bytes
 */
public record ZoneReport(long listedZones, long maxLba, List<Zone> zones) {
    static final int HEADER = 64;
    static final int DESCRIPTOR = 64;

    public ZoneReport {
        zones = List.copyOf(zones);
    }

    /** True when this page holds every zone the target listed. */
    public boolean complete() {
        return zones.size() >= listedZones;
    }

    public static ZoneReport parse(ByteBuf data, int blockSize) {
        if (blockSize <= 0 || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("block size " + blockSize);
        }
        Bytes.require(data, HEADER, "REPORT ZONES header");
        long listLength = Bytes.u32(data, 0);
        if (listLength % DESCRIPTOR != 0) {
            throw new ScsiFormatException("REPORT ZONES: zone list length " + listLength + " is no multiple of "
                    + DESCRIPTOR);
        }
        long maxLba = Bytes.s64(data, 8);
        int end = Bytes.usable(data, HEADER + listLength);
        List<Zone> zones = new ArrayList<>();
        for (int at = HEADER; at + DESCRIPTOR <= end; at += DESCRIPTOR) {
            zones.add(descriptor(data, at, blockSize));
        }
        return new ZoneReport(listLength / DESCRIPTOR, maxLba, zones);
    }

    private static Zone descriptor(ByteBuf data, int at, int blockSize) {
        int typeCode = Bytes.u8(data, at) & 0x0f;
        int conditionCode = (Bytes.u8(data, at + 1) >>> 4) & 0x0f;
        long lengthLba = Bytes.s64(data, at + 8);
        long startLba = Bytes.s64(data, at + 16);
        long wpLba = Bytes.s64(data, at + 24);
        ZoneType type;
        ZoneCondition condition;
        try {
            type = ZoneType.ofZbcCode(typeCode);
            condition = ZoneCondition.ofZbcCode(conditionCode);
        } catch (IllegalArgumentException e) {
            throw new ScsiFormatException("REPORT ZONES descriptor at LBA " + startLba + ": " + e.getMessage());
        }
        int shift = Integer.numberOfTrailingZeros(blockSize);
        if (startLba < 0 || lengthLba <= 0 || startLba > (Long.MAX_VALUE >> shift) - lengthLba) {
            throw new ScsiFormatException("REPORT ZONES descriptor: start LBA " + startLba + ", length "
                    + lengthLba);
        }
        if (condition.hasWritePointer() && (wpLba < startLba || wpLba > startLba + lengthLba)) {
            throw new ScsiFormatException("REPORT ZONES descriptor at LBA " + startLba + ": write pointer LBA "
                    + wpLba + " outside the zone");
        }
        long start = startLba << shift;
        long length = lengthLba << shift;
        // without a write pointer (conventional, full, read-only, offline) the field means nothing: say the end
        long wp = condition.hasWritePointer() ? wpLba << shift : start + length;
        return new Zone(start, length, length, wp, type, condition);
    }
}
