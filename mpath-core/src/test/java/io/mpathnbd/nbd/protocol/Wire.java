package io.mpathnbd.nbd.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/** Test helpers: hex notation for expected wire bytes, feeding decoders in pieces, draining encoders. */
final class Wire {
    private Wire() {
    }

    /** Hex with optional spaces, as written in the tests. */
    static byte[] bytes(String hex) {
        return ByteBufUtil.decodeHexDump(hex.replace(" ", ""));
    }

    static String hex(byte[] bytes) {
        return ByteBufUtil.hexDump(bytes);
    }

    static String hex(ByteBuf buf) {
        return ByteBufUtil.hexDump(buf);
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
            byte[] chunk = ByteBufUtil.getBytes(b);
            out.writeBytes(chunk);
            assertEquals(true, b.release(), "outbound buffer still referenced elsewhere");
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
}
