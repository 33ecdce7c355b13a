package io.mpathnbd.iscsi.pdu;

import static io.mpathnbd.core.support.WireBytes.concat;
import static io.mpathnbd.core.support.WireBytes.pooled;
import static io.mpathnbd.iscsi.pdu.IscsiWire.ascii;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.util.List;
import org.junit.jupiter.api.Test;

/** CRC32C vectors, text keys, serial number arithmetic. */
class PduHelpersTest {
    @Test
    void crc32cKnownVectors() {
        Crc32c crc = new Crc32c();
        assertEquals(0x8a9136aa, crc.of(Unpooled.wrappedBuffer(new byte[32]), 0, 32));
        assertEquals(0xe3069283, crc.of(Unpooled.wrappedBuffer(ascii("123456789")), 0, 9));
        byte[] ones = new byte[32];
        java.util.Arrays.fill(ones, (byte) 0xff);
        assertEquals(0x62a8ab43, crc.of(Unpooled.wrappedBuffer(ones), 0, 32));
        // direct and composite buffers give the same value as heap ones
        ByteBuf direct = pooled(ascii("123456789"));
        assertEquals(0xe3069283, crc.of(direct, 0, 9));
        ByteBuf composite = Unpooled.wrappedBuffer(pooled(ascii("1234")), pooled(ascii("56789")));
        assertEquals(0xe3069283, crc.of(composite, 0, 9));
        assertEquals(0x8a9136aa, crc.reset().update(Unpooled.wrappedBuffer(new byte[30]), 0, 30).updateZeroes(2)
                .value());
        assertEquals("aa36918a", IscsiWire.digest(0x8a9136aa), "digests go on the wire least significant byte first");
        assertTrue(direct.release());
        assertTrue(composite.release());
    }

    @Test
    void textKeysRoundTripInOrderWithRepeatsAndUtf8() {
        TextKeys keys = TextKeys.of("TargetName", "iqn.2024-01.test:a", "TargetAddress", "127.0.0.1:3260,1",
                "TargetName", "iqn.2024-01.test:b", "X-com.example.note", "\u00e9t\u00e9=summer");
        ByteBuf buf = keys.encode(ByteBufAllocator.DEFAULT);
        assertEquals(keys.encodedLength(), buf.readableBytes());
        TextKeys back = TextKeys.decode(buf);
        assertEquals(keys.pairs(), back.pairs());
        assertEquals("iqn.2024-01.test:a", back.get("TargetName"), "first of a repeated key");
        assertEquals("\u00e9t\u00e9=summer", back.get("X-com.example.note"), "only the first '=' splits");
        assertNull(back.get("Missing"));
        assertThrows(IscsiProtocolException.class, back::toMap, "negotiation keys must not repeat");
        assertTrue(buf.release());
        assertEquals(List.of("a", "b"), List.copyOf(TextKeys.of("a", "1", "b", "").toMap().keySet()));
        assertTrue(TextKeys.decode(Unpooled.EMPTY_BUFFER).isEmpty());
    }

    @Test
    void textKeysRefuseMalformedInput() {
        assertMalformed(ascii("Key=Value"), "NUL");
        assertMalformed(ascii("KeyValue\0"), "'='");
        assertMalformed(ascii("A=1\0\0"), "'='");
        assertMalformed(ascii("=1\0"), "text key of 0");
        assertMalformed(ascii("Bad Key=1\0"), "character 0x20");
        assertMalformed(concat(ascii("K="), new byte[] {(byte) 0xc3, 0x28}, new byte[] {0}), "not UTF-8");
        assertMalformed(ascii("K=" + "x".repeat(TextKeys.MAX_VALUE_LENGTH + 1) + "\0"), "longer than 8192");
        assertEquals(TextKeys.MAX_VALUE_LENGTH, TextKeys.decode(Unpooled.wrappedBuffer(ascii("K=" + "x".repeat(
                TextKeys.MAX_VALUE_LENGTH) + "\0"))).get("K").length());
        assertMalformed(ascii("K".repeat(64) + "=1\0"), "text key of 64");
        assertThrows(IllegalArgumentException.class, () -> TextKeys.of("k", "a\0b"));
        assertThrows(IllegalArgumentException.class, () -> TextKeys.of("odd"));
    }

    private static void assertMalformed(byte[] text, String fragment) {
        IscsiProtocolException e = assertThrows(IscsiProtocolException.class,
                () -> TextKeys.decode(Unpooled.wrappedBuffer(text)));
        assertTrue(e.getMessage().contains(fragment), e.getMessage() + " should mention " + fragment);
    }

    @Test
    void serialNumberArithmeticAcrossTheWrap() {
        assertTrue(SerialNumbers.lessThan(1, 2));
        assertTrue(SerialNumbers.lessThan(0xffffffff, 0), "wraps");
        assertTrue(SerialNumbers.greaterThan(5, 0xfffffff0));
        assertTrue(SerialNumbers.lessThan(0, 0x7fffffff));
        assertFalse(SerialNumbers.lessThan(0, 0x80000000), "2^31 apart: undefined, neither less");
        assertFalse(SerialNumbers.greaterThan(0, 0x80000000), "nor greater");
        assertFalse(SerialNumbers.lessThan(7, 7));
        assertTrue(SerialNumbers.lessOrEqual(7, 7));
        assertTrue(SerialNumbers.greaterOrEqual(0, 0xffffffff));
    }

    @Test
    void cmdSnWindow() {
        assertTrue(SerialNumbers.inWindow(10, 10, 10), "a window of one");
        assertFalse(SerialNumbers.inWindow(10, 10, 9), "MaxCmdSN = ExpCmdSN - 1 closes the window");
        assertTrue(SerialNumbers.inWindow(0, 0xfffffffe, 3), "a window across the wrap");
        assertFalse(SerialNumbers.inWindow(4, 0xfffffffe, 3));
        assertFalse(SerialNumbers.inWindow(0xfffffffd, 0xfffffffe, 3));
        assertTrue(SerialNumbers.validWindow(10, 9), "closed is valid");
        assertFalse(SerialNumbers.validWindow(10, 8), "MaxCmdSN < ExpCmdSN - 1 is ignored");
        assertTrue(SerialNumbers.validWindow(0, 0xffffffff), "closed across the wrap");
    }
}
