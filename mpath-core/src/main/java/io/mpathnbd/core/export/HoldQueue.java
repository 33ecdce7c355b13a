package io.mpathnbd.core.export;

import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.request.Errno;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Requests parked while no path can take them (the kernel's requeue list). Each one leaves exactly once: resubmitted
 * when a path becomes usable, failed with EIO when its no-path deadline passes (unless the export queues without
 * limit), or failed when the export gives up or closes.
 */
final class HoldQueue {
    private final Export export;
    private final ConcurrentLinkedQueue<Held> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger size = new AtomicInteger();

    /** A parked request; the flag is set by whichever party takes it out. */
    private static final class Held extends AtomicBoolean {
        final BlockRequest request;
        volatile ScheduledFuture<?> timer;

        Held(BlockRequest request) {
            this.request = request;
        }
    }

    HoldQueue(Export export) {
        this.export = export;
    }

    int size() {
        return size.get();
    }

    void hold(BlockRequest request, boolean deadline) {
        Held h = new Held(request);
        queue.add(h);
        size.incrementAndGet();
        if (deadline) {
            long left = request.deadlineNanos() - System.nanoTime();
            h.timer = export.schedule(() -> expire(h), Math.max(0, left));
        }
    }

    private void expire(Held h) {
        if (h.compareAndSet(false, true)) {
            queue.remove(h);
            size.decrementAndGet();
            export.heldExpired(h.request);
        }
    }

    /**
     * Resubmits what is parked now. A request that finds no path again is parked anew and waits for the next event.
     *
     * @return how many were resubmitted
     */
    int releaseAll() {
        int n = size.get();
        int released = 0;
        for (int i = 0; i < n; i++) {
            Held h = queue.poll();
            if (h == null) {
                break;
            }
            if (!h.compareAndSet(false, true)) {
                continue;
            }
            size.decrementAndGet();
            ScheduledFuture<?> t = h.timer;
            if (t != null) {
                t.cancel(false);
            }
            released++;
            export.resubmitHeld(h.request);
        }
        return released;
    }

    /** @return how many were failed */
    int failAll(int errno, String message) {
        int failed = 0;
        for (Held h; (h = queue.poll()) != null;) {
            if (!h.compareAndSet(false, true)) {
                continue;
            }
            size.decrementAndGet();
            ScheduledFuture<?> t = h.timer;
            if (t != null) {
                t.cancel(false);
            }
            failed++;
            export.finish(h.request, errno == 0 ? Errno.EIO : errno, message);
        }
        return failed;
    }
}
