package io.mpathnbd.core.export;

import io.mpathnbd.core.observe.ExportObserver;
import io.mpathnbd.core.path.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Requests the disk refused with RESERVATION CONFLICT: another host holds a reservation that excludes us, or
 * preempted our key. That is the disk's answer, not a path error: the request fails to the client with EPERM, no
 * path is failed, nothing is retried, and nothing re-registers by itself (being fenced must stick). Counted, and
 * logged once until {@link #rearm()} (a new registration of our key) makes the next one news again.
 */
final class ReservationConflicts {
    private static final Logger LOG = LoggerFactory.getLogger(Export.class); // log lines read as the export's

    private final String exportName;
    private final ExportObserver observer;
    private final LongAdder count = new LongAdder();
    private final AtomicBoolean armed = new AtomicBoolean(true);
    private volatile String last;

    ReservationConflicts(String exportName, ExportObserver observer) {
        this.exportName = exportName;
        this.observer = observer;
    }

    /** One request refused on {@code path}. Hot path under a fence: no allocation after the first. */
    void refused(Path path, String message) {
        count.increment();
        observer.reservationConflict(exportName, path);
        if (armed.compareAndSet(true, false)) {
            last = "path " + path.id() + ": " + message;
            LOG.warn("export {}: the disk refuses our I/O with RESERVATION CONFLICT ({}): fenced by another host's"
                    + " reservation or a preempt of our key; clients get EPERM, no path is failed, nothing is"
                    + " retried or re-registered; logged once", exportName, last);
        }
    }

    long count() {
        return count.sum();
    }

    /** The first conflict since the last {@link #rearm()}, or null. */
    String last() {
        return last;
    }

    void rearm() {
        last = null;
        armed.set(true);
    }
}
