package io.mpathnbd.iscsi.pdu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/** iSCSI-only test helpers; the generic wire ones are in {@link io.mpathnbd.core.support.WireBytes}. */
final class IscsiWire {
    private IscsiWire() {
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Releases a decoded PDU and checks its data is gone for good (a PDU without data holds the shared empty buffer,
     * which has no count to drop).
     */
    static void release(IscsiPdu pdu) {
        ByteBuf data = pdu.data();
        String name = pdu.toString();
        boolean empty = data == io.netty.buffer.Unpooled.EMPTY_BUFFER;
        boolean freed = pdu.release();
        if (!empty) {
            assertTrue(freed, name + " data still referenced");
        }
    }

    /** The little-endian wire form of a digest value. */
    static String digest(int value) {
        return String.format("%02x%02x%02x%02x", value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff,
                value >>> 24);
    }
}
