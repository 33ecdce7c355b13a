package io.mpathnbd.iscsi.scsi;

import io.netty.buffer.ByteBuf;

/** The 4-byte header every VPD page starts with (SPC-4 7.8.1). */
public final class Vpd {
    static final int HEADER = 4;

    private Vpd() {
    }

    /**
     * Total bytes of the page as the target declares it (header included). When this exceeds what the INQUIRY
     * allocated, the answer was truncated and may be asked for again with a larger allocation length.
     */
    public static int declaredLength(ByteBuf data) {
        Bytes.require(data, HEADER, "VPD page header");
        return HEADER + Bytes.u16(data, 2);
    }

    /** Checks the header and page code; returns the usable end offset (declared length bounded by what arrived). */
    static int open(ByteBuf data, int pageCode, int minimum, String what) {
        Bytes.require(data, HEADER, what);
        int page = Bytes.u8(data, 1);
        if (page != pageCode) {
            throw new ScsiFormatException(String.format("%s: page code 0x%02x, expected 0x%02x", what, page, pageCode));
        }
        int end = Bytes.usable(data, declaredLength(data));
        if (end < minimum) {
            throw new ScsiFormatException(what + ": " + end + " usable bytes, need at least " + minimum);
        }
        return end;
    }
}
