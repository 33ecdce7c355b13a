package io.mpathnbd.core.export;

import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.path.PathSession;
import io.mpathnbd.core.request.BlockRequest;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The write fence: keeps an in-doubt write from being retried elsewhere while the path it was sent on might still
 * execute it.
 *
 * <p><b>The danger.</b> A write sent on a path that then stops answering (a TIMEOUT) may have reached the backend and
 * may still be carried out there. If the gateway retried it on another path at once, acknowledged it, and the client
 * then wrote new data to the same blocks, the late original could land on top of the new data: silent corruption
 * (a "ghost write"). A write that failed with a PATH error (connection lost mid-request, error reply) is in doubt in
 * the same way, since the backend may have read it before the connection broke, so it is fenced too.
 *
 * <p><b>What the fence does.</b> The in-doubt write is retried nowhere until (1) the session it was sent on is closed
 * ({@link io.mpathnbd.core.backend.BackendSession#close()} completes only when its connections are fully closed;
 * closing a socket that still holds unread data makes the kernel send RST and discard that data, so requests still
 * queued at the backend, not yet read by it, are purged and can never run), and then (2) the fence delay has
 * elapsed, which gives a write the backend had already picked up and started time to land before the retry.
 *
 * <p><b>What it does not cover.</b> A backend frozen in the middle of a write for longer than the fence delay (a
 * server stopped with SIGSTOP during pwrite, storage stuck underneath it) that later resumes can still land the old
 * data. Only the storage can stop that: persistent reservations (preempting the dead path's registration) or a
 * controller reset, for the iSCSI backend later. Reads are not fenced; a late read changes nothing.
 */
final class WriteFence {
    private static final Logger LOG = LoggerFactory.getLogger(WriteFence.class);

    private final Dispatcher dispatcher;
    private final Timers timers;
    private final long delayNanos;
    private final AtomicInteger fenced = new AtomicInteger();

    WriteFence(Dispatcher dispatcher, Timers timers, long delayNanos) {
        this.dispatcher = dispatcher;
        this.timers = timers;
        this.delayNanos = Math.max(0, delayNanos);
    }

    /** Holds {@code request} until {@code session} is closed and the fence delay has passed after that. */
    void hold(BlockRequest request, Path path, PathSession session) {
        fenced.incrementAndGet();
        if (LOG.isDebugEnabled()) {
            LOG.debug("export {}: fencing in-doubt {} from path {} until its session is closed plus {} ms",
                    dispatcher.exportName(), request, path.id(), TimeUnit.NANOSECONDS.toMillis(delayNanos));
        }
        session.close().whenComplete((v, e) -> timers.schedule(() -> release(request, path), delayNanos));
    }

    private void release(BlockRequest request, Path path) {
        fenced.decrementAndGet();
        dispatcher.resumeFenced(request, path);
    }

    /** Writes waiting for their fence. */
    int size() {
        return fenced.get();
    }
}
