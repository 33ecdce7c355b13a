package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The text of Login and Text PDUs: {@code key=value} pairs, each ended by a NUL byte, UTF-8, in order. Keys may repeat
 * (SendTargets answers repeat TargetName and TargetAddress), so the pairs stay a list. Key names are 1 to 63 bytes of
 * letters, digits and {@code . - + @ _}; values at most {@link #MAX_VALUE_LENGTH} bytes.
 */
public final class TextKeys {
    /** Long enough for a CHAP challenge or response in hex; RFC 7143 limits ordinary values to 255 bytes. */
    public static final int MAX_VALUE_LENGTH = 8192;
    public static final int MAX_KEY_LENGTH = 63;

    /** One pair, as received or to be sent. */
    public record Pair(String key, String value) {
        public Pair {
            checkKey(key);
            checkValue(value);
        }

        @Override
        public String toString() {
            return key + "=" + value;
        }
    }

    private final List<Pair> pairs;

    private TextKeys(List<Pair> pairs) {
        this.pairs = pairs;
    }

    public static TextKeys of(List<Pair> pairs) {
        return new TextKeys(List.copyOf(pairs));
    }

    /** Pairs from alternating keys and values: {@code of("a", "1", "b", "2")}. */
    public static TextKeys of(String... keysAndValues) {
        if (keysAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("keys and values do not pair up");
        }
        List<Pair> list = new ArrayList<>(keysAndValues.length / 2);
        for (int i = 0; i < keysAndValues.length; i += 2) {
            list.add(new Pair(keysAndValues[i], keysAndValues[i + 1]));
        }
        return new TextKeys(Collections.unmodifiableList(list));
    }

    public List<Pair> pairs() {
        return pairs;
    }

    public boolean isEmpty() {
        return pairs.isEmpty();
    }

    /** The value of the first pair with {@code key}, or null. */
    public String get(String key) {
        for (Pair p : pairs) {
            if (p.key().equals(key)) {
                return p.value();
            }
        }
        return null;
    }

    /**
     * The pairs as an ordered map, for negotiation where a key may appear only once (RFC 7143 6.1). A repeated key is
     * a protocol error.
     */
    public Map<String, String> toMap() {
        Map<String, String> map = new LinkedHashMap<>();
        for (Pair p : pairs) {
            if (map.putIfAbsent(p.key(), p.value()) != null) {
                throw new IscsiProtocolException("key " + p.key() + " repeated in one negotiation");
            }
        }
        return map;
    }

    /** The encoded length in bytes. */
    public int encodedLength() {
        int n = 0;
        for (Pair p : pairs) {
            n += utf8Length(p.key()) + 1 + utf8Length(p.value()) + 1;
        }
        return n;
    }

    /** Encodes into a new buffer the caller owns (empty for no pairs). */
    public ByteBuf encode(ByteBufAllocator alloc) {
        ByteBuf out = alloc.buffer(Math.max(1, encodedLength()));
        for (Pair p : pairs) {
            out.writeCharSequence(p.key(), StandardCharsets.UTF_8);
            out.writeByte('=');
            out.writeCharSequence(p.value(), StandardCharsets.UTF_8);
            out.writeByte(0);
        }
        return out;
    }

    /**
     * Decodes a complete text (all PDUs of a C-bit sequence joined) from the readable bytes of {@code text}, without
     * moving its indexes. Every pair must end with NUL, contain '=', have a valid key and valid UTF-8; an empty pair
     * (two NULs in a row) is malformed.
     */
    public static TextKeys decode(ByteBuf text) {
        List<Pair> list = new ArrayList<>();
        int pos = text.readerIndex();
        int end = text.writerIndex();
        while (pos < end) {
            int nul = text.indexOf(pos, end, (byte) 0);
            if (nul < 0) {
                throw new IscsiProtocolException("text pair without its terminating NUL at byte " + (pos
                        - text.readerIndex()));
            }
            int eq = text.indexOf(pos, nul, (byte) '=');
            if (eq < 0) {
                throw new IscsiProtocolException("text pair without '=': " + preview(text, pos, nul));
            }
            String key = utf8(text, pos, eq);
            String value = utf8(text, eq + 1, nul);
            try {
                list.add(new Pair(key, value));
            } catch (IllegalArgumentException e) {
                throw new IscsiProtocolException(e.getMessage());
            }
            pos = nul + 1;
        }
        return new TextKeys(Collections.unmodifiableList(list));
    }

    private static String utf8(ByteBuf buf, int from, int to) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(buf.nioBuffer(from, to - from))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IscsiProtocolException("text that is not UTF-8: " + preview(buf, from, to));
        }
    }

    private static String preview(ByteBuf buf, int from, int to) {
        return buf.toString(from, Math.min(to - from, 64), StandardCharsets.ISO_8859_1);
    }

    static void checkKey(String key) {
        if (key == null || key.isEmpty() || key.length() > MAX_KEY_LENGTH) {
            throw new IllegalArgumentException("text key of " + (key == null ? "null" : key.length() + " chars")
                    + ", 1 to " + MAX_KEY_LENGTH + " are allowed");
        }
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
                    || c == '-' || c == '+' || c == '@' || c == '_';
            if (!ok) {
                throw new IllegalArgumentException("text key with character 0x" + Integer.toHexString(c) + ": "
                        + key);
            }
        }
    }

    static void checkValue(String value) {
        if (value == null) {
            throw new IllegalArgumentException("null text value");
        }
        if (value.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("text value containing NUL");
        }
        if (utf8Length(value) > MAX_VALUE_LENGTH) {
            throw new IllegalArgumentException("text value longer than " + MAX_VALUE_LENGTH + " bytes");
        }
    }

    private static int utf8Length(String s) {
        return io.netty.buffer.ByteBufUtil.utf8Bytes(s);
    }

    @Override
    public String toString() {
        return pairs.toString();
    }
}
