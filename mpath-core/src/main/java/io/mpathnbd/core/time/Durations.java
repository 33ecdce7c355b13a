package io.mpathnbd.core.time;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Configured durations as the core uses them (nanoseconds) and shows them in log lines and error messages. */
public final class Durations {

    private Durations() {
    }

    /** A configured duration in nanoseconds; an unset one (null) is zero. */
    public static long nanos(Duration d) {
        return d == null ? 0 : d.toNanos();
    }

    /** "250 ms" below ten seconds, "30 s" from there; negative as zero. */
    public static String format(long nanos) {
        long ms = TimeUnit.NANOSECONDS.toMillis(Math.max(0, nanos));
        return ms < 10_000 ? ms + " ms" : (ms / 1000) + " s";
    }
}
