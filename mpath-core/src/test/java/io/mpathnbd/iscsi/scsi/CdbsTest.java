package io.mpathnbd.iscsi.scsi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;

/** Byte-exact CDBs per SPC-4 / SBC-3 layouts. */
class CdbsTest {

    private static void assertCdb(String expectedHex, byte[] cdb) {
        assertArrayEquals(Hex.bytes(expectedHex), cdb, () -> "got " + ByteBufUtil.hexDump(cdb));
    }

    @Test
    void testUnitReadyIsSixZeroBytes() {
        assertCdb("00 00 00 00 00 00", Cdbs.testUnitReady());
    }

    @Test
    void inquiryStandardAndVpd() {
        assertCdb("12 00 00 00 24 00", Cdbs.inquiry(36));
        assertCdb("12 01 83 01 00 00", Cdbs.inquiryVpd(0x83, 256));
        assertCdb("12 01 b0 ff ff 00", Cdbs.inquiryVpd(0xB0, 0xffff));
        assertThrows(IllegalArgumentException.class, () -> Cdbs.inquiry(0x10000));
        assertThrows(IllegalArgumentException.class, () -> Cdbs.inquiryVpd(0x100, 4));
    }

    @Test
    void readCapacity16UsesServiceActionInWithSa10() {
        assertCdb("9e 10 00 00 00 00 00 00 00 00 00 00 00 20 00 00", Cdbs.readCapacity16(32));
    }

    @Test
    void read16CarriesLbaBlocksAndFua() {
        assertCdb("88 00 01 23 45 67 89 ab cd ef 00 00 01 00 00 00", Cdbs.read16(0x0123456789abcdefL, 256, false));
        assertCdb("88 08 00 00 00 00 00 00 00 07 7f ff ff ff 00 00", Cdbs.read16(7, Integer.MAX_VALUE, true));
    }

    @Test
    void write16CarriesLbaBlocksAndFua() {
        assertCdb("8a 08 00 00 00 01 00 00 00 00 00 00 00 08 00 00", Cdbs.write16(1L << 32, 8, true));
        assertCdb("8a 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00", Cdbs.write16(0, 1, false));
        assertThrows(IllegalArgumentException.class, () -> Cdbs.write16(-1, 1, false));
        assertThrows(IllegalArgumentException.class, () -> Cdbs.write16(0, -1, false));
    }

    @Test
    void synchronizeCache16() {
        assertCdb("91 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", Cdbs.synchronizeCache16(0, 0));
        assertCdb("91 00 00 00 00 00 00 00 10 00 00 00 20 00 00 00", Cdbs.synchronizeCache16(0x1000, 0x2000));
    }

    @Test
    void writeSame16WithAndWithoutUnmap() {
        assertCdb("93 08 00 00 00 00 00 00 00 80 00 01 00 00 00 00", Cdbs.writeSame16(0x80, 0x10000, true));
        assertCdb("93 00 00 00 00 00 00 00 00 80 00 01 00 00 00 00", Cdbs.writeSame16(0x80, 0x10000, false));
    }

    @Test
    void unmapIsTenBytesWithParameterListLength() {
        assertCdb("42 00 00 00 00 00 00 00 18 00", Cdbs.unmap(24));
        assertThrows(IllegalArgumentException.class, () -> Cdbs.unmap(0x10000));
    }

    @Test
    void reportTargetPortGroupsIsMaintenanceInSa0A() {
        assertCdb("a3 0a 00 00 00 00 00 00 10 00 00 00", Cdbs.reportTargetPortGroups(4096));
        assertCdb("a3 2a 00 00 00 00 00 00 10 00 00 00", Cdbs.reportTargetPortGroups(4096, true));
    }

    @Test
    void reportLuns() {
        assertCdb("a0 00 00 00 00 00 00 01 00 00 00 00", Cdbs.reportLuns(65536));
    }

    @Test
    void eachCallReturnsAFreshArray() {
        byte[] a = Cdbs.testUnitReady();
        a[0] = 0x55;
        assertEquals(0, Cdbs.testUnitReady()[0]);
    }

    @Test
    void unmapParametersOneDescriptor() {
        ByteBuf b = UnmapParameters.encode(UnpooledByteBufAllocator.DEFAULT, 0x1000, 0x800);
        try {
            assertEquals("0016 0010 00000000 0000000000001000 00000800 00000000".replace(" ", ""),
                    ByteBufUtil.hexDump(b));
            assertEquals(24, UnmapParameters.length(0x800));
            assertArrayEquals(Cdbs.unmap(24), Cdbs.unmap(b.readableBytes()));
        } finally {
            b.release();
        }
    }

    @Test
    void unmapParametersSplitRangesBeyond32BitBlockCounts() {
        long blocks = 0xffffffffL + 5;
        ByteBuf b = UnmapParameters.encode(UnpooledByteBufAllocator.DEFAULT, 10, blocks);
        try {
            assertEquals(("0026 0020 00000000"
                    + " 000000000000000a ffffffff 00000000"
                    + " 0000000100000009 00000005 00000000").replace(" ", ""), ByteBufUtil.hexDump(b));
            assertEquals(40, UnmapParameters.length(blocks));
        } finally {
            b.release();
        }
        assertThrows(IllegalArgumentException.class,
                () -> UnmapParameters.encode(UnpooledByteBufAllocator.DEFAULT, 0, 0));
    }
}
