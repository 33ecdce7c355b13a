package io.mpathnbd.server.config;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses the human units of the config: durations (100ms, 5s, 2m, 1h, 0; 50us where a setting allows
 * microseconds) and sizes (32MiB, 64KiB, plain bytes).
 */
public final class Units {
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(us|ms|s|m|h)");
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(?:([kmgt])(?:ib?)?)?b?");

    private Units() {
    }

    /** @param where key path for the message */
    public static Duration duration(String where, String text) {
        return duration(where, text, false);
    }

    /**
     * A duration that may also be written in microseconds ({@code 50us}), for the few settings below a millisecond;
     * at most {@code max}.
     *
     * @param where key path (or option) for the message
     */
    public static Duration fineDuration(String where, String text, Duration max) {
        Duration d = duration(where, text, true);
        if (d.compareTo(max) > 0) {
            throw new ConfigException(where + ": '" + text + "' is too large (at most " + format(max) + ")");
        }
        return d;
    }

    private static Duration duration(String where, String text, boolean micros) {
        String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        if (t.equals("0")) {
            return Duration.ZERO;
        }
        String hint = micros ? "(use e.g. 50us, 1ms)" : "(use e.g. 100ms, 5s, 2m)";
        Matcher m = DURATION.matcher(t);
        if (!m.matches()) {
            throw new ConfigException(where + ": '" + text + "' is not a duration " + hint);
        }
        if (m.group(2).equals("us") && !micros) {
            throw new ConfigException(where + ": '" + text + "': microseconds are not accepted here " + hint);
        }
        long n;
        try {
            n = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            throw new ConfigException(where + ": '" + text + "' is too large");
        }
        try {
            switch (m.group(2)) {
                case "us": return Duration.ofNanos(Math.multiplyExact(n, 1000L));
                case "ms": return Duration.ofMillis(n);
                case "s": return Duration.ofSeconds(n);
                case "m": return Duration.ofMinutes(n);
                default: return Duration.ofHours(n);
            }
        } catch (ArithmeticException e) {
            throw new ConfigException(where + ": '" + text + "' is too large");
        }
    }

    /** @param where key path for the message */
    public static long size(String where, String text) {
        String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        Matcher m = SIZE.matcher(t);
        if (!m.matches()) {
            throw new ConfigException(where + ": '" + text + "' is not a size (use e.g. 32MiB, 64KiB or plain bytes)");
        }
        int shift = 0;
        if (m.group(2) != null) {
            shift = 10 * ("kmgt".indexOf(m.group(2).charAt(0)) + 1);
        }
        try {
            long n = Long.parseLong(m.group(1));
            if (n > (Long.MAX_VALUE >> shift)) {
                throw new NumberFormatException();
            }
            return n << shift;
        } catch (NumberFormatException e) {
            throw new ConfigException(where + ": '" + text + "' is too large");
        }
    }

    /** Formats a duration the way the config writes it (for messages and status output). */
    public static String format(Duration d) {
        if (d.toNanos() % 1_000_000 != 0) {
            return d.toNanos() / 1000 + "us";
        }
        long ms = d.toMillis();
        if (ms == 0) {
            return "0";
        }
        if (ms % 3_600_000 == 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0) {
            return ms / 60_000 + "m";
        }
        if (ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }

    /** Formats a byte count with a binary unit when it is exact (32MiB), else plain bytes. */
    public static String formatSize(long bytes) {
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        String result = Long.toString(bytes);
        long v = bytes;
        for (String u : units) {
            if (v == 0 || v % 1024 != 0) {
                break;
            }
            v /= 1024;
            result = v + u;
        }
        return result;
    }
}
