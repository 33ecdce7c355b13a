package io.mpathnbd.core.reservation;

import java.util.Locale;

/** Reservation keys as people write them: {@code 0x} and up to 16 hex digits (8 bytes), never 0 (no key). */
public final class ReservationKeys {
    private ReservationKeys() {
    }

    /**
     * The key {@code text} names; {@link IllegalArgumentException} saying what is wrong otherwise. The message
     * quotes the text, so callers reading a key from a file must not pass it on.
     */
    public static long parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("missing reservation key (0x and 1 to 16 hex digits)");
        }
        String t = text.trim();
        if (!t.startsWith("0x") && !t.startsWith("0X")) {
            throw new IllegalArgumentException("'" + text + "' is not a reservation key: write it as 0x and 1 to 16"
                    + " hex digits, e.g. 0x0123456789abcdef");
        }
        String hex = t.substring(2);
        if (hex.isEmpty() || hex.length() > 16 || !hex.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
            throw new IllegalArgumentException("'" + text + "' is not a reservation key: after 0x come 1 to 16 hex"
                    + " digits (8 bytes), e.g. 0x0123456789abcdef");
        }
        long key = Long.parseUnsignedLong(hex, 16);
        if (key == 0) {
            throw new IllegalArgumentException("'" + text + "' is not a reservation key: 0 means no key");
        }
        return key;
    }

    /** {@code 0x} and 16 hex digits, lower case. */
    public static String format(long key) {
        return String.format(Locale.ROOT, "0x%016x", key);
    }
}
