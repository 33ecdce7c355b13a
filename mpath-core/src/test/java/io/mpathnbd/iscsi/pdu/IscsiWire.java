package io.mpathnbd.iscsi.pdu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Test helpers: hex notation for expected wire bytes, feeding decoders in pieces, draining encoders. */
final class IscsiWire {
    private IscsiWire() {
    }

    /** Hex with optional spaces and '|' separators, as written in the tests. */
    static byte[] bytes(String hex) {
        return ByteBufUtil.decodeHexDump(hex.replace(" ", "").replace("|", ""));
    }

    static String hex(byte[] bytes) {
        return ByteBufUtil.hexDump(bytes);
    }

    static String hex(ByteBuf buf) {
        return ByteBufUtil.hexDump(buf);
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** A pooled buffer holding {@code bytes}, the kind a socket read delivers. */
    static ByteBuf pooled(byte[] bytes) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(Math.max(1, bytes.length));
        b.writeBytes(bytes);
        return b;
    }

    /** Writes {@code data} inbound in pieces of {@code piece} bytes and returns every message passed on. */
    static List<Object> feed(EmbeddedChannel ch, byte[] data, int piece) {
        for (int i = 0; i < data.length; i += piece) {
            int n = Math.min(piece, data.length - i);
            ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(n);
            b.writeBytes(data, i, n);
            ch.writeInbound(b);
        }
        return inbound(ch);
    }

    static List<Object> inbound(EmbeddedChannel ch) {
        List<Object> out = new ArrayList<>();
        Object m;
        while ((m = ch.readInbound()) != null) {
            out.add(m);
        }
        return out;
    }

    /** All outbound buffers concatenated; each is released (and checked to be released for good). */
    static byte[] drain(EmbeddedChannel ch) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Object m;
        while ((m = ch.readOutbound()) != null) {
            ByteBuf b = (ByteBuf) m;
            out.writeBytes(ByteBufUtil.getBytes(b));
            assertTrue(b.release(), "outbound buffer still referenced elsewhere");
        }
        return out.toByteArray();
    }

    /** Outbound buffers one by one (the caller releases them). */
    static List<ByteBuf> outbound(EmbeddedChannel ch) {
        List<ByteBuf> out = new ArrayList<>();
        Object m;
        while ((m = ch.readOutbound()) != null) {
            out.add((ByteBuf) m);
        }
        return out;
    }

    static byte[] content(ByteBuf b) {
        return ByteBufUtil.getBytes(b);
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
