package io.mpathnbd.iscsi.scsi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.zone.Zone;
import io.mpathnbd.core.zone.ZoneCondition;
import io.mpathnbd.core.zone.ZoneType;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;

/**
 * ZBC command blocks and answers against byte layouts written out by hand from ZBC-1 (REPORT ZONES header and
 * descriptors, ZBC OUT, VPD 0xB6, the ZONED field of VPD 0xB1); no zoned target exists here to record from.
 */
class ZbcCodecTest {
    private static final String ZERO8 = "0000000000000000";

    @Test
    void reportZonesCdb() {
        assertArrayEquals(Hex.bytes("9500" + "0000000000080000" + "00010040" + "0000"),
                Cdbs.reportZones(0x80000, 65600));
        assertThrows(IllegalArgumentException.class, () -> Cdbs.reportZones(-1, 64));
    }

    @Test
    void zbcOutCdbs() {
        // RESET WRITE POINTER of the zone at LBA 0x100000, then FINISH with the ALL bit (zone ID sent as 0)
        assertArrayEquals(Hex.bytes("9404" + "0000000000100000" + "00000000" + "0000"),
                Cdbs.zbcOut(4, 0x100000, false));
        assertArrayEquals(Hex.bytes("9402" + ZERO8 + "00000000" + "0100"), Cdbs.zbcOut(2, 0x100000, true));
        assertThrows(IllegalArgumentException.class, () -> Cdbs.zbcOut(5, 0, false));
        assertThrows(IllegalArgumentException.class, () -> Cdbs.zbcOut(0, 0, false));
    }

    /** A 64-byte descriptor: type, condition (high nibble), length, start, write pointer, all in LBAs. */
    private static String descriptor(int type, int condition, long length, long start, long wp) {
        return String.format("%02x%02x000000000000%016x%016x%016x", type, condition << 4, length, start, wp)
                + "00".repeat(32);
    }

    private static String header(int zones, long maxLba) {
        return String.format("%08x00000000%016x", zones * 64, maxLba) + "00".repeat(48);
    }

    @Test
    void reportZonesAnswerInBytes() {
        // 512-byte blocks, zones of 2048 blocks (1 MiB): a conventional zone, an empty one, one implicitly open
        // with 16 blocks written, a full one (its write pointer field means nothing)
        String page = header(4, 8191)
                + descriptor(1, 0x0, 2048, 0, 0xFFFFFFFFFFFFL)
                + descriptor(2, 0x1, 2048, 2048, 2048)
                + descriptor(2, 0x2, 2048, 4096, 4096 + 16)
                + descriptor(2, 0xE, 2048, 6144, 0);
        ZoneReport r = ZoneReport.parse(Hex.buf(page), 512);
        assertEquals(4, r.listedZones());
        assertEquals(8191, r.maxLba());
        assertTrue(r.complete());
        int mib = 1 << 20;
        assertEquals(new Zone(0, mib, mib, mib, ZoneType.CONVENTIONAL, ZoneCondition.NOT_WRITE_POINTER),
                r.zones().get(0));
        assertEquals(new Zone(mib, mib, mib, mib, ZoneType.SEQUENTIAL_WRITE_REQUIRED, ZoneCondition.EMPTY),
                r.zones().get(1));
        assertEquals(new Zone(2L * mib, mib, mib, 2L * mib + 16 * 512, ZoneType.SEQUENTIAL_WRITE_REQUIRED,
                ZoneCondition.IMPLICIT_OPEN), r.zones().get(2));
        assertEquals(new Zone(3L * mib, mib, mib, 4L * mib, ZoneType.SEQUENTIAL_WRITE_REQUIRED, ZoneCondition.FULL),
                r.zones().get(3));
    }

    @Test
    void aPageCutByTheAllocationLengthIsIncomplete() {
        String page = header(3, 6143) + descriptor(2, 0x1, 2048, 0, 0) + descriptor(2, 0x1, 2048, 2048, 2048)
                + descriptor(2, 0x1, 2048, 4096, 4096);
        // the target fills what the allocation length allows: the header and one and a half descriptors
        ZoneReport r = ZoneReport.parse(Hex.truncated(page, 64 + 64 + 32), 4096);
        assertEquals(3, r.listedZones());
        assertEquals(1, r.zones().size());
        assertFalse(r.complete());
        assertEquals(2048L * 4096, r.zones().get(0).length());
    }

    @Test
    void malformedAnswersAreFormatErrors() {
        assertThrows(ScsiFormatException.class, () -> ZoneReport.parse(Hex.truncated(header(0, 0), 40), 512));
        String odd = String.format("%08x", 65) + header(0, 0).substring(8);
        assertThrows(ScsiFormatException.class, () -> ZoneReport.parse(Hex.buf(odd), 512));
        ScsiFormatException wp = assertThrows(ScsiFormatException.class,
                () -> ZoneReport.parse(Hex.buf(header(1, 4095) + descriptor(2, 0x2, 2048, 2048, 9000)), 512));
        assertTrue(wp.getMessage().contains("write pointer LBA 9000 outside the zone"), wp.getMessage());
        ScsiFormatException gap = assertThrows(ScsiFormatException.class,
                () -> ZoneReport.parse(Hex.buf(header(1, 4095) + descriptor(5, 0x0, 2048, 0, 0)), 512));
        assertTrue(gap.getMessage().contains("no zone type modelled for ZBC code 5"), gap.getMessage());
        assertThrows(ScsiFormatException.class,
                () -> ZoneReport.parse(Hex.buf(header(1, 4095) + descriptor(2, 0x1, 0, 0, 0)), 512));
    }

    @Test
    void zonedCharacteristicsPage() {
        // B6, page length 0x3C; URSWRZ set; optimal counts, then max open SWR zones = 14 in bytes 16-19
        ByteBuf b = Hex.buf("00b6003c" + "01000000" + "00000080" + "00000080" + "0000000e" + "00".repeat(44));
        ZonedCharacteristics z = ZonedCharacteristics.parse(b);
        assertTrue(z.unrestrictedReads());
        assertEquals(14, z.maxOpenSequentialRequired());
        assertFalse(z.unlimitedOpen());
        assertTrue(ZonedCharacteristics.parse(Hex.buf("00b6003c" + "00000000" + ZERO8 + "ffffffff"
                + "00".repeat(44))).unlimitedOpen());
        assertThrows(ScsiFormatException.class, () -> ZonedCharacteristics.parse(Hex.buf("00b20004" + "00000000")));
    }

    @Test
    void zonedFieldOfBlockDeviceCharacteristics() {
        // byte 8 bits 5-4: 01b host-aware, 00b not reported
        assertEquals(ZonedCharacteristics.ZONED_HOST_AWARE,
                ZonedCharacteristics.zonedField(Hex.buf("00b1003c" + "00010000" + "10" + "00".repeat(55))));
        assertEquals(ZonedCharacteristics.ZONED_NOT_REPORTED,
                ZonedCharacteristics.zonedField(Hex.buf("00b1003c" + "00010000" + "02" + "00".repeat(55))));
        assertThrows(ScsiFormatException.class, () -> ZonedCharacteristics.zonedField(Hex.buf("00b10004" + "0000"
                + "0000")));
    }
}
