package io.mpathnbd.iscsi.scsi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;

class SenseDataTest {

    @Test
    void fixedFormatRecordedFromTgt() {
        ByteBuf b = Hex.buf(RecordedTgt.SENSE_UA_POWER_ON);
        SenseData s = SenseData.parse(b);
        assertEquals(new SenseData(0x70, SenseData.UNIT_ATTENTION, 0x29, 0x00, 0, false), s);
        assertEquals("UNIT ATTENTION 29/00", s.toString());
        assertEquals(3, b.readerIndex());
        assertEquals("ILLEGAL REQUEST 21/00", SenseData.parse(Hex.bytes(RecordedTgt.SENSE_LBA_OUT_OF_RANGE)).toString());
        assertEquals("ILLEGAL REQUEST 24/00",
                SenseData.parse(Hex.bytes(RecordedTgt.SENSE_INVALID_FIELD_IN_CDB)).toString());
        assertEquals("ILLEGAL REQUEST 20/00", SenseData.parse(Hex.bytes(RecordedTgt.SENSE_INVALID_OPCODE)).toString());
    }

    @Test
    void fixedFormatWithInformationAndDeferred() {
        // Constructed per SPC-4 4.5.3: VALID, deferred (0x71), MEDIUM ERROR, INFORMATION 0x12345678, 11/00.
        SenseData s = SenseData.parse(Hex.bytes("f1 00 03 12345678 0a 00000000 11 00 00 000000"));
        assertEquals(new SenseData(0x71, SenseData.MEDIUM_ERROR, 0x11, 0, 0x12345678L, true), s);
        assertTrue(s.deferred());
        assertEquals("MEDIUM ERROR 11/00", s.toString());
    }

    @Test
    void descriptorFormatWithInformationDescriptor() {
        // Constructed per SPC-4 4.5.2: NOT READY 04/0A; a vendor descriptor (type 0x80, 2 bytes) first, then the
        // information descriptor (type 0, VALID, 64-bit INFORMATION).
        String hex = "72 02 04 0a 00 00 00 10  80 02 aabb  00 0a 80 00 00000001 00000002";
        SenseData s = SenseData.parse(Hex.buf(hex));
        assertEquals(new SenseData(0x72, SenseData.NOT_READY, 0x04, 0x0a, 0x100000002L, true), s);
        assertEquals("NOT READY 04/0A", s.toString());
        assertFalse(s.deferred());
        assertTrue(s.is(SenseData.NOT_READY, 0x04, 0x0a));
    }

    @Test
    void descriptorFormatHeaderOnly() {
        SenseData s = SenseData.parse(Hex.bytes("73 06 2a 06 00 00 00 00"));
        assertEquals(new SenseData(0x73, SenseData.UNIT_ATTENTION, 0x2a, 0x06, 0, false), s);
        assertTrue(s.deferred());
    }

    @Test
    void truncatedSenseKeepsTheKey() {
        assertEquals(new SenseData(0x70, SenseData.UNIT_ATTENTION, 0, 0, 0, false),
                SenseData.parse(Hex.truncated(RecordedTgt.SENSE_UA_POWER_ON, 8)));
        assertEquals(new SenseData(0x70, SenseData.ILLEGAL_REQUEST, 0x21, 0, 0, false),
                SenseData.parse(Hex.truncated(RecordedTgt.SENSE_LBA_OUT_OF_RANGE, 13)));
        // ADDITIONAL SENSE LENGTH 4 says ASC (byte 12) is not part of the sense, whatever follows.
        assertEquals(new SenseData(0x70, SenseData.NOT_READY, 0, 0, 0, false),
                SenseData.parse(Hex.bytes("70 00 02 00000000 04 00000000 04 0a")));
        assertEquals(new SenseData(0x72, SenseData.ABORTED_COMMAND, 0x47, 0, 0, false),
                SenseData.parse(Hex.bytes("72 0b 47")));
        // Information descriptor cut after its header: not valid.
        assertFalse(SenseData.parse(Hex.bytes("72 03 11 00 00 00 00 0c 00 0a 80 00 0000")).informationValid());
    }

    @Test
    void unusableSenseIsRejected() {
        assertThrows(ScsiFormatException.class, () -> SenseData.parse(new byte[0]));
        assertThrows(ScsiFormatException.class, () -> SenseData.parse(Hex.bytes("70 00")));
        assertThrows(ScsiFormatException.class, () -> SenseData.parse(Hex.bytes("72")));
        ScsiFormatException e = assertThrows(ScsiFormatException.class,
                () -> SenseData.parse(Hex.bytes("7f 00 06 00")));
        assertTrue(e.getMessage().contains("0x7f"), e.getMessage());
    }
}
