package io.mpathnbd.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import io.mpathnbd.core.reservation.ReservationKeys;
import java.math.BigInteger;
import java.util.List;

/**
 * The persistent reservation key of an export ({@code reservation-key: 0x...} or {@code reservation-key-file}), in
 * {@code defaults:} or per export, where one of the two replaces what the defaults gave. A key read from a file
 * appears in no message, log line or status output.
 *
 * @param key 0 for none
 * @param file the file it came from, or null when written in the config (or none)
 */
public record ReservationKeySetting(long key, String file) {
    public static final ReservationKeySetting NONE = new ReservationKeySetting(0, null);
    static final String KEY = "reservation-key";
    static final String FILE_KEY = "reservation-key-file";
    static final List<String> KEYS = List.of(KEY, FILE_KEY);
    private static final BigInteger MAX = BigInteger.ONE.shiftLeft(64);

    public boolean present() {
        return key != 0;
    }

    /** The key came from a file: never shown. */
    public boolean secret() {
        return file != null;
    }

    static ReservationKeySetting read(Section s, ReservationKeySetting base) {
        if (s.has(KEY) && s.has(FILE_KEY)) {
            throw new ConfigException(s.where(KEY) + ": give either " + KEY + " or " + FILE_KEY + ", not both");
        }
        if (s.has(KEY)) {
            return new ReservationKeySetting(inline(s.where(KEY), s.raw(KEY)), null);
        }
        if (s.has(FILE_KEY)) {
            String where = s.where(FILE_KEY);
            String file = s.string(FILE_KEY, null);
            String text = SecretFile.read(where, file).trim();
            try {
                return new ReservationKeySetting(ReservationKeys.parse(text), file);
            } catch (IllegalArgumentException e) {
                // the message would quote the content
                throw new ConfigException(where + ": " + file + " does not hold a reservation key (expected one"
                        + " line: 0x and 1 to 16 hex digits, not 0)");
            }
        }
        return base;
    }

    /** YAML reads an unquoted 0x... as a hex integer; a quoted one stays text. Both mean the same key. */
    private static long inline(String where, JsonNode v) {
        if (v != null && v.isIntegralNumber()) {
            BigInteger b = v.bigIntegerValue();
            if (b.signum() <= 0 || b.compareTo(MAX) >= 0) {
                throw new ConfigException(where + ": " + v.asText() + " is not a reservation key: 0x and 1 to 16"
                        + " hex digits (8 bytes), not 0");
            }
            return b.longValue();
        }
        String text = Section.scalar(where, v);
        try {
            return ReservationKeys.parse(text);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(where + ": " + e.getMessage());
        }
    }

    @Override
    public String toString() {
        return key == 0 ? "none" : file != null ? "(from " + file + ")" : ReservationKeys.format(key);
    }
}
