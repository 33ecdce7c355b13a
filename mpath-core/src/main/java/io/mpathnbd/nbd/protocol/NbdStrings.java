package io.mpathnbd.nbd.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.nio.charset.StandardCharsets;

/**
 * UTF-8 strings on the wire. Two policies: names a client sends us are checked strictly (invalid UTF-8, NUL or more than
 * {@link NbdConstants#MAX_STRING} bytes is a protocol error, which the handler answers with ERR_INVALID), while text a
 * server sends for display (descriptions, error messages) is decoded leniently (bad bytes become U+FFFD, longer text is
 * cut at MAX_STRING bytes) because rejecting it would only hide the error it reports.
 */
final class NbdStrings {
    private NbdStrings() {
    }

    /** A string from the peer that must be valid: at most MAX_STRING bytes, valid UTF-8, no NUL. */
    static String strict(ByteBuf buf, int index, int length, String what) {
        if (length < 0 || length > NbdConstants.MAX_STRING) {
            throw new NbdProtocolException(what + " is " + Integer.toUnsignedString(length) + " bytes, more than "
                    + NbdConstants.MAX_STRING);
        }
        if (length == 0) {
            return "";
        }
        if (!ByteBufUtil.isText(buf, index, length, StandardCharsets.UTF_8)) {
            throw new NbdProtocolException(what + " is not valid UTF-8");
        }
        if (buf.indexOf(index, index + length, (byte) 0) >= 0) {
            throw new NbdProtocolException(what + " contains NUL");
        }
        return buf.toString(index, length, StandardCharsets.UTF_8);
    }

    /** Display text from the peer: invalid bytes are replaced, anything past MAX_STRING bytes is dropped. */
    static String lenient(ByteBuf buf, int index, int length) {
        int n = Math.min(length, NbdConstants.MAX_STRING);
        return n <= 0 ? "" : buf.toString(index, n, StandardCharsets.UTF_8);
    }

    /** UTF-8 length without encoding. */
    static int utf8Length(String s) {
        return ByteBufUtil.utf8Bytes(s);
    }

    /** The longest prefix of {@code s} whose UTF-8 form fits in {@code maxBytes}, never splitting a surrogate pair. */
    static String truncate(String s, int maxBytes) {
        if (ByteBufUtil.utf8Bytes(s) <= maxBytes) {
            return s;
        }
        int bytes = 0;
        int i = 0;
        while (i < s.length()) {
            int cp = s.codePointAt(i);
            int len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            if (bytes + len > maxBytes) {
                break;
            }
            bytes += len;
            i += Character.charCount(cp);
        }
        return s.substring(0, i);
    }

    /** Checks a string we are about to send: the spec caps every string at MAX_STRING bytes. */
    static int checkedLength(String s, String what) {
        int len = ByteBufUtil.utf8Bytes(s);
        if (len > NbdConstants.MAX_STRING) {
            throw new IllegalArgumentException(what + " is " + len + " bytes of UTF-8, more than "
                    + NbdConstants.MAX_STRING);
        }
        return len;
    }
}
