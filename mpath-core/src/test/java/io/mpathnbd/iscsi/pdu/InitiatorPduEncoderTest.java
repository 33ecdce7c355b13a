package io.mpathnbd.iscsi.pdu;

import static io.mpathnbd.core.support.WireBytes.bytes;
import static io.mpathnbd.core.support.WireBytes.concat;
import static io.mpathnbd.core.support.WireBytes.drain;
import static io.mpathnbd.core.support.WireBytes.hex;
import static io.mpathnbd.core.support.WireBytes.pooled;
import static io.mpathnbd.iscsi.pdu.IscsiWire.ascii;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.mpathnbd.core.support.WireBytes;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.EncoderException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Byte-exact encoding of every initiator PDU against headers built by hand from the RFC 7143 section 11 layouts. */
class InitiatorPduEncoderTest {
    private static final String ZERO16 = "00000000 00000000 00000000 00000000";
    private static final long LUN1 = 0x0001_0000_0000_0000L;

    private final PduSettings settings = new PduSettings();
    private final EmbeddedChannel ch = new EmbeddedChannel(IscsiPduEncoder.initiator(settings));

    private String encode(IscsiPdu pdu) {
        ch.writeOutbound(pdu);
        return hex(drain(ch));
    }

    @Test
    void nopOutImmediateWithPingData() {
        String wire = encode(new NopOut(true, LUN1, 0x11223344, Opcodes.RESERVED_TAG, 7, 9, pooled(ascii("ping"))));
        assertEquals(hex(bytes("40 80 0000 | 00 000004 | 0001000000000000 | 11223344 | ffffffff | 00000007 | 00000009 | "
                + ZERO16 + " | 70696e67")), wire);
    }

    @Test
    void scsiCommandReadSixteen() {
        byte[] cdb = bytes("88 00 0000000000000010 00000008 00 00");
        String wire = encode(new ScsiCommand(false, true, true, false, ScsiCommand.ATTR_SIMPLE, 0, 1, 4096, 0x100,
                0x200, cdb, null));
        assertEquals(hex(bytes("01 c1 0000 | 00 000000 | 0000000000000000 | 00000001 | 00001000 | 00000100 | 00000200 | "
                + "88000000000000000010000000080000")), wire);
    }

    @Test
    void scsiCommandWithImmediateDataIsPaddedToFourBytes() {
        byte[] cdb = bytes("8a 08 0000000000000000 00000001 00 00");
        ByteBuf data = pooled(ascii("hello"));
        String wire = encode(new ScsiCommand(false, true, false, true, ScsiCommand.ATTR_SIMPLE, 0, 2, 5, 1, 1, cdb,
                data));
        assertEquals(hex(bytes("01 a1 0000 | 00 000005 | 0000000000000000 | 00000002 | 00000005 | 00000001 | 00000001 | "
                + "8a080000000000000000000000010000 | 68656c6c6f 000000")), wire);
        assertEquals(0, data.refCnt());
    }

    @Test
    void shortCdbIsZeroPadded() {
        String wire = encode(new ScsiCommand(true, true, false, false, ScsiCommand.ATTR_UNTAGGED, 0, 3, 0, 4, 5,
                new byte[6], null));
        assertEquals(hex(bytes("41 80 0000 | 00 000000 | 0000000000000000 | 00000003 | 00000000 | 00000004 | 00000005 | "
                + ZERO16)), wire);
    }

    @Test
    void taskManagementAbortTask() {
        String wire = encode(new TaskManagementRequest(true, TaskManagementRequest.ABORT_TASK, LUN1, 0x20, 0x10, 3, 4,
                2, 0));
        assertEquals(hex(bytes("42 81 0000 | 00000000 | 0001000000000000 | 00000020 | 00000010 | 00000003 | 00000004 | "
                + "00000002 | 00000000 | 0000000000000000")), wire);
    }

    @Test
    void loginRequestSecurityToOperational() {
        ByteBuf text = TextKeys.of("AuthMethod", "None").encode(ByteBufAllocator.DEFAULT);
        String wire = encode(new LoginRequest(true, false, LoginStage.SECURITY_NEGOTIATION,
                LoginStage.OPERATIONAL_NEGOTIATION, 0, 0, 0x023d_0000_0001L, 0, 0, 0, 1, 0, text));
        assertEquals(hex(concat(bytes("43 81 00 00 | 00 000010 | 023d00000001 0000 | 00000000 | 0000 0000 | 00000001 | "
                + "00000000 | " + ZERO16), ascii("AuthMethod=None\0"))), wire);
    }

    @Test
    void loginRequestContinueWithTsih() {
        String wire = encode(new LoginRequest(false, true, LoginStage.OPERATIONAL_NEGOTIATION, 0, 0, 0,
                0x80_1234_5678_9aL, 0x0102, 7, 0x0304, 0xfffffffe, 0x10, null));
        assertEquals(hex(bytes("43 44 00 00 | 00 000000 | 80123456789a 0102 | 00000007 | 0304 0000 | fffffffe | "
                + "00000010 | " + ZERO16)), wire);
    }

    @Test
    void textRequestSendTargets() {
        ByteBuf text = TextKeys.of("SendTargets", "All").encode(ByteBufAllocator.DEFAULT);
        String wire = encode(new TextRequest(false, true, false, 0, 5, Opcodes.RESERVED_TAG, 10, 11, text));
        assertEquals(hex(concat(bytes("04 80 0000 | 00 000010 | 0000000000000000 | 00000005 | ffffffff | 0000000a | "
                + "0000000b | " + ZERO16), ascii("SendTargets=All\0"))), wire);
    }

    @Test
    void dataOutPaddedWithOffsetAndDataSN() {
        String wire = encode(new DataOut(true, 0, 6, 0x77, 12, 3, 0x2000, pooled(ascii("abcdef"))));
        assertEquals(hex(bytes("05 80 0000 | 00 000006 | 0000000000000000 | 00000006 | 00000077 | 00000000 | 0000000c | "
                + "00000000 | 00000003 | 00002000 | 00000000 | 616263646566 0000")), wire);
    }

    @Test
    void logoutCloseSession() {
        String wire = encode(new LogoutRequest(true, LogoutRequest.CLOSE_SESSION, 9, 0, 13, 14));
        assertEquals(hex(bytes("46 80 0000 | 00000000 | 0000000000000000 | 00000009 | 0000 0000 | 0000000d | 0000000e | "
                + ZERO16)), wire);
    }

    @Test
    void dataSegmentIsPassedOnNotCopied() {
        ByteBuf data = pooled(new byte[8]);
        ch.writeOutbound(new DataOut(false, 0, 1, 2, 3, 0, 0, data));
        List<ByteBuf> out = WireBytes.outbound(ch);
        assertEquals(2, out.size(), "header and data, no trailer for an aligned segment without digest");
        assertSame(data, out.get(1));
        out.forEach(ByteBuf::release);
        assertEquals(0, data.refCnt());
    }

    /**
     * RFC 7143 appendix B.4 (and the ips list correction it came from) gives the header digest of a SCSI WRITE(10)
     * command BHS as the wire bytes 93 70 51 db.
     */
    @Test
    void headerDigestMatchesRfcExample() {
        settings.headerDigest(true);
        byte[] cdb = bytes("2a 00 00000000 00 0080 00");
        String wire = encode(new ScsiCommand(false, true, false, true, ScsiCommand.ATTR_UNTAGGED, 0, 0x04050000,
                0x00010000, 5, 4, cdb, null));
        assertEquals(hex(bytes("01a00000 00000000 00000000 00000000 04050000 00010000 00000005 00000004 "
                + "2a000000 00000000 80000000 00000000 937051db")), wire);
    }

    @Test
    void dataDigestCoversDataAndPadding() {
        settings.headerDigest(true).dataDigest(true);
        byte[] payload = ascii("123456789");
        ch.writeOutbound(new NopOut(true, 0, 1, Opcodes.RESERVED_TAG, 0, 0, pooled(payload)));
        byte[] wire = drain(ch);
        Crc32c crc = new Crc32c();
        ByteBuf w = Unpooled.wrappedBuffer(wire);
        assertEquals(48 + 4 + 12 + 4, wire.length);
        assertEquals(crc.of(w, 0, 48), w.getIntLE(48), "header digest over the BHS");
        assertEquals(crc.of(Unpooled.wrappedBuffer(concat(payload, new byte[3])), 0, 12), w.getIntLE(64),
                "data digest over data and padding");
        assertEquals(hex(payload) + "000000", hex(w.slice(52, 12)));
    }

    @Test
    void refusesTargetPdusDataOnDatalessTypesAndOversizedSegments() {
        NopIn nopIn = new NopIn(0, 1, Opcodes.RESERVED_TAG, 0, 0, 0, null);
        assertThrows(EncoderException.class, () -> ch.writeOutbound(nopIn));
        ByteBuf big = pooled(new byte[8193]);
        assertThrows(EncoderException.class, () -> ch.writeOutbound(new DataOut(true, 0, 1, 2, 0, 0, 0, big)));
        assertEquals(0, big.refCnt(), "the refused PDU is released");
        ByteBuf data = pooled(new byte[4]);
        TaskManagementRequest tmf = new TaskManagementRequest(true, 1, 0, 1, 2, 0, 0, 0, 0).replace(data);
        assertThrows(EncoderException.class, () -> ch.writeOutbound(tmf));
        assertEquals(0, data.refCnt());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void invalidFieldsAreRefusedAtConstruction() {
        assertThrows(IllegalArgumentException.class, () -> new ScsiCommand(false, true, true, false, 0, 0, 1, 0, 0,
                0, new byte[17], null));
        assertThrows(IllegalArgumentException.class, () -> new LoginRequest(true, true, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0,
                null));
        assertThrows(IllegalArgumentException.class, () -> new LoginRequest(true, false, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0,
                null));
        assertThrows(IllegalArgumentException.class, () -> new LoginRequest(false, false, 0, 0, 0, 0, 1L << 48, 0, 0,
                0, 0, 0, null));
        assertThrows(IllegalArgumentException.class, () -> new TextRequest(false, true, true, 0, 1, 0, 0, 0, null));
    }
}
