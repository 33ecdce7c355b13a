package io.mpathnbd.iscsi.session;

/** LUN numbers to the 8-byte LUN field (SAM single-level addressing: peripheral below 256, flat space above). */
final class Luns {
    static final int MAX_LUN = 16383;

    private Luns() {
    }

    static long encode(long lun) {
        if (lun < 0 || lun > MAX_LUN) {
            throw new IllegalArgumentException("LUN " + lun + " outside 0.." + MAX_LUN);
        }
        if (lun < 256) {
            return lun << 48;
        }
        return ((0x40L | (lun >> 8)) << 56) | ((lun & 0xff) << 48);
    }
}
