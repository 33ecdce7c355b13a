package io.mpathnbd.iscsi.scsi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.iscsi.scsi.DeviceIdentification.Designator;
import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** Parsers against response bytes recorded from tgtd (see {@link RecordedTgt}). */
class VpdAndCapacityParsersTest {

    @Test
    void standardInquiryFromTgt() {
        ByteBuf b = Hex.buf(RecordedTgt.STANDARD_INQUIRY);
        StandardInquiry inq = StandardInquiry.parse(b);
        assertEquals(new StandardInquiry(0, 0, 0, false, "IET", "VIRTUAL-DISK", "0001"), inq);
        assertFalse(inq.alua());
        assertTrue(inq.connected());
        assertEquals(3, b.readerIndex());
    }

    @Test
    void standardInquiryTruncatedKeepsWhatArrived() {
        StandardInquiry inq = StandardInquiry.parse(Hex.truncated(RecordedTgt.STANDARD_INQUIRY, 20));
        assertEquals("IET", inq.vendor());
        assertEquals("VIRT", inq.product());
        assertEquals("", inq.revision());
        ScsiFormatException e = assertThrows(ScsiFormatException.class,
                () -> StandardInquiry.parse(Hex.truncated(RecordedTgt.STANDARD_INQUIRY, 7)));
        assertTrue(e.getMessage().contains("standard INQUIRY"), e.getMessage());
    }

    @Test
    void standardInquiryReportsTpgsAndQualifier() {
        // tgt has no ALUA: the recorded data with byte 5 changed to TPGS=01b (implicit ALUA) and qualifier 001b.
        String hex = "20" + RecordedTgt.STANDARD_INQUIRY.substring(2, 10) + "12" + RecordedTgt.STANDARD_INQUIRY.substring(12);
        StandardInquiry inq = StandardInquiry.parse(Hex.buf(hex));
        assertEquals(1, inq.tpgs());
        assertEquals(1, inq.qualifier());
        assertTrue(inq.alua());
        assertFalse(inq.connected());
    }

    @Test
    void unitSerialFromTgt() {
        assertEquals("beaf11", UnitSerial.parse(Hex.buf(RecordedTgt.UNIT_SERIAL)).serial());
        assertThrows(ScsiFormatException.class, () -> UnitSerial.parse(Hex.buf(RecordedTgt.PROVISIONING_LUN1)));
        assertThrows(ScsiFormatException.class, () -> UnitSerial.parse(Hex.truncated(RecordedTgt.UNIT_SERIAL, 3)));
    }

    @Test
    void deviceIdentificationFromTgtPrefersNaa6() {
        ByteBuf b = Hex.buf(RecordedTgt.DEVICE_ID_LUN1);
        DeviceIdentification id = DeviceIdentification.parse(b);
        List<Designator> d = id.designators();
        assertEquals(3, d.size());
        assertEquals(Designator.TYPE_T10_VENDOR_ID, d.get(0).type());
        assertEquals(Designator.CODE_SET_ASCII, d.get(0).codeSet());
        assertEquals("t10.IET     00010001", d.get(0).identity());
        assertEquals(Designator.TYPE_NAA, d.get(1).type());
        assertEquals("3000000100000001", d.get(1).hex());
        assertEquals(Designator.ASSOCIATION_LOGICAL_UNIT, d.get(2).association());
        assertEquals("naa.60000000000000000e00000000010001", id.identity());
        assertEquals(OptionalInt.empty(), id.relativeTargetPort());
        assertEquals(OptionalInt.empty(), id.targetPortGroup());
        assertEquals(3, b.readerIndex());
        assertEquals(76, Vpd.declaredLength(b));
    }

    @Test
    void twoLunsOfOneTargetHaveDifferentIdentities() {
        String lun1 = DeviceIdentification.parse(Hex.buf(RecordedTgt.DEVICE_ID_LUN1)).identity();
        String lun2 = DeviceIdentification.parse(Hex.buf(RecordedTgt.DEVICE_ID_LUN2)).identity();
        assertEquals("naa.60000000000000000e00000000010002", lun2);
        assertFalse(lun1.equals(lun2));
    }

    @Test
    void deviceIdentificationCutByAllocationLengthKeepsCompleteDesignators() {
        ByteBuf b = Hex.buf(RecordedTgt.DEVICE_ID_LUN1_ALLOC64);
        DeviceIdentification id = DeviceIdentification.parse(b);
        assertEquals(2, id.designators().size());
        assertEquals("naa.3000000100000001", id.identity());
        assertTrue(Vpd.declaredLength(b) > b.readableBytes(), "caller can see the page was cut");
    }

    @Test
    void deviceIdentificationPortDesignatorsAndOtherTypes() {
        // Constructed per SPC-4 7.8.6 (tgt reports no port designators): EUI-64, SCSI name string (UTF-8, NUL
        // padded), relative target port 2 and target port group 0x0101, both associated with the target port.
        String hex = "0083 002c"
                + "0102 0008 0011223344556677"
                + "0308 000c 69716e2e782e793a7a000000"
                + "0114 0004 00000002"
                + "0115 0004 00000101";
        DeviceIdentification id = DeviceIdentification.parse(Hex.buf(hex));
        assertEquals(4, id.designators().size());
        assertEquals("eui.0011223344556677", id.identity());
        assertEquals("iqn.x.y:z", id.designators().get(1).identity());
        assertEquals(OptionalInt.of(2), id.relativeTargetPort());
        assertEquals(OptionalInt.of(0x101), id.targetPortGroup());
        assertNull(DeviceIdentification.parse(Hex.buf("0083 0008 0114 0004 00000002")).identity());
        assertThrows(ScsiFormatException.class, () -> DeviceIdentification.parse(Hex.buf("0080 00")));
    }

    @Test
    void blockLimitsFromTgt() {
        assertEquals(new BlockLimits(0, 0, 0, 0, 0, 0), BlockLimits.parse(Hex.buf(RecordedTgt.BLOCK_LIMITS_LUN1)));
        BlockLimits thin = BlockLimits.parse(Hex.buf(RecordedTgt.BLOCK_LIMITS_LUN2));
        assertEquals(0xffffffffL, thin.maxUnmapBlocks());
        assertEquals(Integer.MAX_VALUE, thin.maxUnmapDescriptors());
        assertEquals(0, thin.maxWriteSameBlocks());
    }

    @Test
    void blockLimitsAllFieldsAndTruncation() {
        // Constructed per SBC-3 6.6.3: max transfer 0x800, optimal 0x80, max unmap 0x10000 in 0x100 descriptors,
        // granularity 8, max write same 0x40000.
        String full = "00b0003c 00800001 00000800 00000080 00000000 00010000 00000100 00000008 00000000"
                + " 0000000000040000 0000000000000000 0000000000000000";
        assertEquals(new BlockLimits(0x800, 0x80, 0x10000, 0x100, 0x40000, 8), BlockLimits.parse(Hex.buf(full)));
        // SBC-2-sized answer: only the transfer lengths are there.
        assertEquals(new BlockLimits(0x800, 0x80, 0, 0, 0, 0), BlockLimits.parse(Hex.truncated(full, 16)));
        assertThrows(ScsiFormatException.class, () -> BlockLimits.parse(Hex.truncated(full, 15)));
    }

    @Test
    void logicalBlockProvisioningFromTgt() {
        assertEquals(new LogicalBlockProvisioning(false, false, false, false),
                LogicalBlockProvisioning.parse(Hex.buf(RecordedTgt.PROVISIONING_LUN1)));
        assertEquals(new LogicalBlockProvisioning(true, true, true, true),
                LogicalBlockProvisioning.parse(Hex.buf(RecordedTgt.PROVISIONING_LUN2)));
        assertThrows(ScsiFormatException.class,
                () -> LogicalBlockProvisioning.parse(Hex.truncated(RecordedTgt.PROVISIONING_LUN2, 5)));
    }

    @Test
    void capacity16FromTgt() {
        ByteBuf b = Hex.buf(RecordedTgt.CAPACITY_LUN1);
        Capacity16 c = Capacity16.parse(b);
        assertEquals(new Capacity16(131071, 512, false, false, 3), c);
        assertEquals(64L << 20, c.sizeBytes());
        assertEquals(4096, c.physicalBlockLength());
        assertEquals(3, b.readerIndex());
        Capacity16 thin = Capacity16.parse(Hex.buf(RecordedTgt.CAPACITY_LUN2));
        assertEquals(new Capacity16(8191, 4096, true, true, 0), thin);
        assertEquals(32L << 20, thin.sizeBytes());
    }

    @Test
    void capacity16TruncatedAndMalformed() {
        assertEquals(new Capacity16(8191, 4096, false, false, 0),
                Capacity16.parse(Hex.truncated(RecordedTgt.CAPACITY_LUN2, 12)));
        assertThrows(ScsiFormatException.class, () -> Capacity16.parse(Hex.truncated(RecordedTgt.CAPACITY_LUN2, 11)));
        assertThrows(ScsiFormatException.class, () -> Capacity16.parse(Hex.buf("0000000000001fff00000000")));
        assertThrows(ScsiFormatException.class, () -> Capacity16.parse(Hex.buf("ffffffffffffffff00000200")));
    }
}
