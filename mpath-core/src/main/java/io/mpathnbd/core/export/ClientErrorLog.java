package io.mpathnbd.core.export;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warnings about requests the export failed with EIO: at most one a second, with the count of those left out, so an
 * export without paths under full load cannot flood the log.
 */
final class ClientErrorLog {
    private static final Logger LOG = LoggerFactory.getLogger(Export.class); // log lines read as the export's
    private static final long INTERVAL = TimeUnit.SECONDS.toNanos(1);

    private final AtomicLong lastLogged = new AtomicLong(System.nanoTime() - 2 * INTERVAL);
    private final LongAdder suppressed = new LongAdder();

    void eio(String message) {
        long now = System.nanoTime();
        long last = lastLogged.get();
        if (now - last >= INTERVAL && lastLogged.compareAndSet(last, now)) {
            long left = suppressed.sumThenReset();
            LOG.warn("{} (EIO to the client{})", message,
                    left > 0 ? "; " + left + " similar errors in the last second not logged" : "");
        } else {
            suppressed.increment();
        }
    }
}
