package io.mpathnbd.core.export;

import io.mpathnbd.core.observe.ExportObserver;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.core.time.Durations;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Requests parked while no path can take them (the kernel's requeue list). A request is parked only if some path may
 * come back (or the operator asked to queue forever), else it fails with EIO at once. Each parked request leaves
 * exactly once: resubmitted when a path becomes usable, failed with EIO when its no-path deadline passes (unless the
 * export queues without limit) or when no path can come back any more, or failed when the export closes.
 *
 * <p>While I/O is paused ({@link #pause}: a control command must not race the export's own writes, as when our key
 * is preempted and registered again) every request is parked here, with its deadline, whatever the paths do; the
 * last {@link #resume} resubmits them.
 */
final class HoldQueue {
    private static final Logger LOG = LoggerFactory.getLogger(Export.class); // log lines read as the export's

    private final Export export;
    private final Dispatcher dispatcher;
    private final PathSet paths;
    private final ExportObserver observer;
    private final Timers timers;
    private final boolean forever;
    private final String noPathTimeout;
    private final ConcurrentLinkedQueue<Held> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger size = new AtomicInteger();
    private final AtomicInteger pauses = new AtomicInteger();

    /** A parked request; the flag is set by whichever party takes it out. */
    private static final class Held extends AtomicBoolean {
        final BlockRequest request;
        volatile ScheduledFuture<?> timer;

        Held(BlockRequest request) {
            this.request = request;
        }
    }

    HoldQueue(Export export, Dispatcher dispatcher, PathSet paths, ExportObserver observer, Timers timers) {
        this.export = export;
        this.dispatcher = dispatcher;
        this.paths = paths;
        this.observer = observer;
        this.timers = timers;
        this.forever = export.config().queueIfNoPath();
        this.noPathTimeout = Durations.format(Durations.nanos(export.config().noPathTimeout()));
    }

    int size() {
        return size.get();
    }

    boolean paused() {
        return pauses.get() > 0;
    }

    void pause() {
        pauses.incrementAndGet();
    }

    /** Ends one pause; the last one resubmits what was parked. */
    void resume() {
        if (pauses.decrementAndGet() == 0) {
            release(null);
            reevaluate();
        }
    }

    /** A request found no usable path (or I/O is paused): parks it if a path may come back, else fails it. */
    void park(BlockRequest request) {
        if (paused() || forever || paths.mayComeBack()) {
            hold(request);
        } else {
            dispatcher.giveUp(request, "no usable path (" + paths.summary() + ")");
        }
    }

    private void hold(BlockRequest request) {
        if (!forever && System.nanoTime() - request.deadlineNanos() >= 0) {
            expired(request);
            return;
        }
        boolean first = size.get() == 0;
        Held h = new Held(request);
        queue.add(h);
        size.incrementAndGet();
        if (!forever) {
            h.timer = timers.schedule(() -> expire(h), request.deadlineNanos() - System.nanoTime());
        }
        observer.held(export.name());
        boolean paused = paused();
        if (first && !paused) {
            LOG.info("export {}: no usable path; holding I/O ({}) ({})", export.name(),
                    forever ? "queue-if-no-path" : "up to " + noPathTimeout, paths.summary());
        }
        // a path may have come back, the last hope gone, or the pause ended, between the selection and now (a
        // resume that ran before this check finds the request in the queue)
        if (paths.closed()) {
            failAll(Errno.ESHUTDOWN, dispatcher.shuttingDown());
        } else if (paused) {
            return;
        } else if (paths.anyUsable()) {
            release(null);
        } else {
            reevaluate();
        }
    }

    private void expire(Held h) {
        if (take(h)) {
            queue.remove(h);
            expired(h.request);
        }
    }

    private void expired(BlockRequest request) {
        dispatcher.giveUp(request, "no usable path within the no-path-timeout of " + noPathTimeout + " ("
                + paths.summary() + ")");
    }

    /**
     * Resubmits what is parked now, after {@code cause} became usable (null: noticed otherwise). A request that finds
     * no path again is parked anew and waits for the next event.
     */
    void release(Path cause) {
        if (size.get() == 0 || paused()) {
            return;
        }
        int n = size.get();
        int released = 0;
        for (int i = 0; i < n; i++) {
            Held h = queue.poll();
            if (h == null) {
                break;
            }
            if (take(h)) {
                released++;
                dispatcher.dispatch(h.request, null);
            }
        }
        if (released > 0 && cause != null) {
            LOG.info("export {}: path {} usable; resubmitted {} held requests", export.name(), cause.id(), released);
        }
    }

    /** Fails what is parked when no path can come back any more (and the operator did not ask to queue forever). */
    void reevaluate() {
        if (size.get() == 0 || forever || paused() || paths.anyUsable() || paths.mayComeBack()) {
            return;
        }
        String why = "no usable path, and none can come back (" + paths.summary() + ")";
        int n = failAll(Errno.EIO, "export " + export.name() + ": " + why);
        if (n > 0) {
            LOG.warn("export {}: failed {} held requests with EIO: {}", export.name(), n, why);
        }
    }

    /** @return how many were failed */
    int failAll(int errno, String message) {
        int failed = 0;
        for (Held h; (h = queue.poll()) != null;) {
            if (take(h)) {
                failed++;
                dispatcher.finish(h.request, errno == 0 ? Errno.EIO : errno, message);
            }
        }
        return failed;
    }

    /** Claims a parked request for whoever calls first; stops its deadline timer. */
    private boolean take(Held h) {
        if (!h.compareAndSet(false, true)) {
            return false;
        }
        size.decrementAndGet();
        ScheduledFuture<?> t = h.timer;
        if (t != null) {
            t.cancel(false);
        }
        return true;
    }
}
