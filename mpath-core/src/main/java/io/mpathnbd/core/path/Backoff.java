package io.mpathnbd.core.path;

import io.mpathnbd.core.time.Durations;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Reconnect delays of one path: exponential from reconnect-min to reconnect-max, with jitter so that paths that
 * failed together spread out; a refused path waits the longest delay. Used under the path state machine's lock.
 */
final class Backoff {
    private static final long FLOOR = TimeUnit.MILLISECONDS.toNanos(1);

    private final long min;
    private final long max;
    private final long refused;
    private int step;

    Backoff(Duration reconnectMin, Duration reconnectMax) {
        this.min = Math.max(Durations.nanos(reconnectMin), FLOOR);
        this.max = Math.max(Durations.nanos(reconnectMax), min);
        this.refused = Math.max(Durations.nanos(reconnectMax), FLOOR);
    }

    /** The delay before the next attempt; each call doubles the base, up to the maximum. */
    long next() {
        int s = step;
        if (step < 64) {
            step++;
        }
        long base = min;
        for (int i = 0; i < s && base < max; i++) {
            base = base > max / 2 ? max : base * 2;
        }
        long half = base / 2;
        return half + ThreadLocalRandom.current().nextLong(base - half + 1);
    }

    /** The delay before retrying a path the target refused: retrying sooner cannot help. */
    long refused() {
        return refused;
    }

    /** After a successful connect, or when the operator reinstates the path. */
    void reset() {
        step = 0;
    }
}
