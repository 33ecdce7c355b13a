package io.mpathnbd.iscsi.scsi;

import io.netty.buffer.ByteBuf;

/**
 * Standard INQUIRY data (SPC-4 6.6.2). The first 8 bytes are mandatory here; the identification strings are read
 * as far as they arrived (a short allocation length truncates them, it does not make the data invalid).
 */
public record StandardInquiry(int qualifier, int deviceType, int tpgs, boolean removable, String vendor,
        String product, String revision) {

    public static final int DEVICE_TYPE_DISK = 0x00;
    /** A host-managed zoned block device (ZBC). */
    public static final int DEVICE_TYPE_HOST_MANAGED_ZONED = 0x14;
    /** TPGS values: 1 implicit ALUA, 2 explicit, 3 both. */
    public static final int TPGS_NONE = 0;

    private static final int HEADER = 8;

    public static StandardInquiry parse(ByteBuf data) {
        Bytes.require(data, HEADER, "standard INQUIRY data");
        int end = Bytes.usable(data, 5L + Bytes.u8(data, 4));
        int b0 = Bytes.u8(data, 0);
        return new StandardInquiry(b0 >>> 5, b0 & 0x1f, (Bytes.u8(data, 5) >>> 4) & 0x03,
                (Bytes.u8(data, 1) & 0x80) != 0,
                Bytes.ascii(data, 8, Math.min(end, 16)),
                Bytes.ascii(data, 16, Math.min(end, 32)),
                Bytes.ascii(data, 32, Math.min(end, 36)));
    }

    /** The logical unit reports asymmetric access (REPORT TARGET PORT GROUPS is worth asking). */
    public boolean alua() {
        return tpgs != TPGS_NONE;
    }

    /** Qualifier 0: a logical unit is actually connected at this LUN. */
    public boolean connected() {
        return qualifier == 0;
    }
}
