package io.mpathnbd.iscsi.scsi;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Absolute big-endian reads relative to a buffer's reader index, so parsers never move the index and never read
 * past the readable bytes.
 */
final class Bytes {
    private Bytes() {
    }

    static void require(ByteBuf b, int length, String what) {
        if (b.readableBytes() < length) {
            throw new ScsiFormatException(what + ": " + b.readableBytes() + " bytes, need at least " + length);
        }
    }

    /** Bytes usable by a response that declares {@code declared} bytes in total: truncated to what arrived. */
    static int usable(ByteBuf b, long declared) {
        return (int) Math.min(b.readableBytes(), declared);
    }

    static int u8(ByteBuf b, int offset) {
        return b.getUnsignedByte(b.readerIndex() + offset);
    }

    static int u16(ByteBuf b, int offset) {
        return b.getUnsignedShort(b.readerIndex() + offset);
    }

    static long u32(ByteBuf b, int offset) {
        return b.getUnsignedInt(b.readerIndex() + offset);
    }

    static long s64(ByteBuf b, int offset) {
        return b.getLong(b.readerIndex() + offset);
    }

    /** u32 clamped to int: "more than 2^31-1 blocks" is as good as unlimited for us. */
    static int u32Clamped(ByteBuf b, int offset) {
        return (int) Math.min(u32(b, offset), Integer.MAX_VALUE);
    }

    static byte[] copy(ByteBuf b, int offset, int length) {
        byte[] out = new byte[length];
        b.getBytes(b.readerIndex() + offset, out);
        return out;
    }

    /** ASCII field, cut at {@code end} (exclusive, already bounded by the caller), NULs and padding trimmed. */
    static String ascii(ByteBuf b, int offset, int end) {
        if (end <= offset) {
            return "";
        }
        String s = b.toString(b.readerIndex() + offset, end - offset, StandardCharsets.US_ASCII);
        return s.replace('\0', ' ').trim();
    }

    static String hex(byte[] value) {
        StringBuilder sb = new StringBuilder(value.length * 2);
        for (byte v : value) {
            sb.append(Character.forDigit((v >> 4) & 0xf, 16)).append(Character.forDigit(v & 0xf, 16));
        }
        return sb.toString();
    }
}
