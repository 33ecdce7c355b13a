package io.mpathnbd.server.frontend;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * Logs refused connections without letting a storm of them flood the log: the first refusal of a kind is logged at
 * once, later ones at most once per interval, each line saying how many were refused since the last one. Any thread.
 */
final class RefusalLog {
    static final long INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final Logger log;
    private final long intervalNanos;
    private final LongSupplier clock;
    private long lastLogged;
    private boolean loggedOnce;
    private long suppressed;

    RefusalLog(Logger log, long intervalNanos) {
        this(log, intervalNanos, System::nanoTime);
    }

    RefusalLog(Logger log, long intervalNanos, LongSupplier clock) {
        this.log = log;
        this.intervalNanos = intervalNanos;
        this.clock = clock;
    }

    /** One refusal; {@code what} says whom and why, e.g. "127.0.0.1:4711: more than 4096 connections". */
    void refused(String what) {
        long now = clock.getAsLong();
        long before;
        synchronized (this) {
            if (loggedOnce && now - lastLogged < intervalNanos) {
                suppressed++;
                return;
            }
            before = suppressed;
            suppressed = 0;
            lastLogged = now;
            loggedOnce = true;
        }
        if (before == 0) {
            log.warn("refused connection from {}", what);
        } else {
            log.warn("refused connection from {} ({} more refused since the last such line)", what, before);
        }
    }
}
