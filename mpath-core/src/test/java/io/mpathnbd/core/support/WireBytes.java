package io.mpathnbd.core.support;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Codec test helpers shared by the NBD and iSCSI tests: hex notation for expected wire bytes, feeding decoders in
 * pieces, draining encoders.
 */
public final class WireBytes {
    private WireBytes() {
    }

    /** Hex with optional spaces and '|' separators (field boundaries), as written in the tests. */
    public static byte[] bytes(String hex) {
        return ByteBufUtil.decodeHexDump(hex.replace(" ", "").replace("|", ""));
    }

    /** Lower-case hex without separators, so failures show which byte differs. */
    public static String hex(byte[] bytes) {
        return ByteBufUtil.hexDump(bytes);
    }

    /** Lower-case hex of the readable bytes; the buffer's indexes are left alone. */
    public static String hex(ByteBuf buf) {
        return ByteBufUtil.hexDump(buf);
    }

    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** A pooled direct buffer holding {@code bytes}, the kind a socket read delivers (so leaks are detected). */
    public static ByteBuf pooled(byte[] bytes) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(Math.max(1, bytes.length));
        b.writeBytes(bytes);
        return b;
    }

    /**
     * Writes {@code data} inbound in pieces of {@code piece} bytes, to exercise every split point, and returns every
     * message passed on.
     */
    public static List<Object> feed(EmbeddedChannel ch, byte[] data, int piece) {
        for (int i = 0; i < data.length; i += piece) {
            int n = Math.min(piece, data.length - i);
            ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(n);
            b.writeBytes(data, i, n);
            ch.writeInbound(b);
        }
        return inbound(ch);
    }

    /** Every message the channel has passed on so far (the caller releases them). */
    public static List<Object> inbound(EmbeddedChannel ch) {
        List<Object> out = new ArrayList<>();
        Object m;
        while ((m = ch.readInbound()) != null) {
            out.add(m);
        }
        return out;
    }

    /** All outbound buffers concatenated; each is released and checked to be freed for good (no stray retain). */
    public static byte[] drain(EmbeddedChannel ch) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Object m;
        while ((m = ch.readOutbound()) != null) {
            ByteBuf b = (ByteBuf) m;
            out.writeBytes(ByteBufUtil.getBytes(b));
            assertTrue(b.release(), "outbound buffer still referenced elsewhere");
        }
        return out.toByteArray();
    }

    /** Outbound buffers one by one, for tests that check how a message is split (the caller releases them). */
    public static List<ByteBuf> outbound(EmbeddedChannel ch) {
        List<ByteBuf> out = new ArrayList<>();
        Object m;
        while ((m = ch.readOutbound()) != null) {
            out.add((ByteBuf) m);
        }
        return out;
    }

    /** A copy of the readable bytes; the buffer is neither moved nor released. */
    public static byte[] content(ByteBuf b) {
        return ByteBufUtil.getBytes(b);
    }
}
