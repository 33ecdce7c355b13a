package io.mpathnbd.core.export;

import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.path.PathSession;
import io.mpathnbd.core.request.BlockRequest;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
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
 * data, and so can bytes the network delays for longer than that (a relay, a stalled switch queue: the reset only
 * purges what reached the backend's socket). Only the storage can stop those.
 *
 * <p><b>The storage fence.</b> With a {@link StorageFence} installed ({@code fence: reservation}: the hung nexus's
 * registration is preempted through a healthy path), the writes of a failed session are retried only once that
 * fence is done (and the session is closed), without the fence delay: the storage then refuses whatever the hung
 * nexus still sends, however late. One fencing per failed session, however many writes it had in flight; logged
 * once with its outcome and counted. When it cannot be carried out (no healthy path, the command failed, no
 * reservation of a registrants type held) the writes are not retried blindly: they fall back to the reset and the
 * fence delay above, and the log line says why. Reads are not fenced; a late read changes nothing.
 */
final class WriteFence {
    private static final Logger LOG = LoggerFactory.getLogger(WriteFence.class);

    private final Dispatcher dispatcher;
    private final Timers timers;
    private final long delayNanos;
    private final AtomicInteger fenced = new AtomicInteger();
    private final LongAdder storageFences = new LongAdder();
    private final LongAdder fallbacks = new LongAdder();
    /** The storage fencing of each failed session under way: its writes wait on the same one. */
    private final Map<PathSession, CompletableFuture<StorageFence.Outcome>> fencing = new ConcurrentHashMap<>();
    private volatile StorageFence storage;

    WriteFence(Dispatcher dispatcher, Timers timers, long delayNanos) {
        this.dispatcher = dispatcher;
        this.timers = timers;
        this.delayNanos = Math.max(0, delayNanos);
    }

    /** Installs (or, with null, removes) the storage fence used before the fence delay. */
    void storage(StorageFence fence) {
        storage = fence;
    }

    /**
     * Holds {@code request} until {@code session} is closed and then either the storage fence is done or, without one
     * (or when it could not be carried out), the fence delay has passed.
     */
    void hold(BlockRequest request, Path path, PathSession session) {
        fenced.incrementAndGet();
        StorageFence s = storage;
        CompletableFuture<Void> closed = session.close();
        if (s == null) {
            if (LOG.isDebugEnabled()) {
                LOG.debug("export {}: fencing in-doubt {} from path {} until its session is closed plus {} ms",
                        dispatcher.exportName(), request, path.id(), TimeUnit.NANOSECONDS.toMillis(delayNanos));
            }
            closed.whenComplete((v, e) -> timers.schedule(() -> release(request, path), delayNanos));
            return;
        }
        CompletableFuture<Object> closedAnyway = closed.handle((v, e) -> null);
        CompletableFuture<StorageFence.Outcome> mine = new CompletableFuture<>();
        CompletableFuture<StorageFence.Outcome> outcome = fencing.putIfAbsent(session, mine);
        if (outcome == null) {
            outcome = mine;
            // a closed session fails no more requests: later failures of it are none of this fencing's
            mine.thenAcceptBoth(closedAnyway, (o, ignored) -> fencing.remove(session, mine));
            start(s, path).whenComplete((o, e) -> mine.complete(o != null ? o
                    : StorageFence.Outcome.notPossible("the fence failed: " + e)));
        }
        outcome.thenAcceptBoth(closedAnyway, (o, ignored) -> {
            if (o.fenced()) {
                release(request, path);
            } else {
                timers.schedule(() -> release(request, path), delayNanos);
            }
        });
    }

    /** One storage fencing of a failed session: logged once with its outcome, counted. */
    private CompletableFuture<StorageFence.Outcome> start(StorageFence s, Path path) {
        long t0 = System.nanoTime();
        CompletableFuture<StorageFence.Outcome> f;
        try {
            f = s.fence(path).exceptionally(e -> StorageFence.Outcome.notPossible(String.valueOf(e)));
        } catch (RuntimeException e) {
            f = CompletableFuture.completedFuture(StorageFence.Outcome.notPossible(e.toString()));
        }
        return f.thenApply(o -> {
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            if (o.fenced()) {
                storageFences.increment();
                LOG.warn("export {}: path {} failed with writes in doubt: fenced by reservation in {} ms ({}); they"
                        + " are retried elsewhere now", dispatcher.exportName(), path.id(), ms, o.detail());
            } else {
                fallbacks.increment();
                LOG.warn("export {}: path {} failed with writes in doubt and cannot be fenced by reservation ({});"
                        + " falling back to the reset and the fence delay of {} ms", dispatcher.exportName(),
                        path.id(), o.detail(), TimeUnit.NANOSECONDS.toMillis(delayNanos));
            }
            return o;
        });
    }

    private void release(BlockRequest request, Path path) {
        fenced.decrementAndGet();
        dispatcher.resumeFenced(request, path);
    }

    /** Writes waiting for their fence. */
    int size() {
        return fenced.get();
    }

    /** Failed sessions whose in-doubt writes the storage fence covered. */
    long storageFences() {
        return storageFences.sum();
    }

    /** Failed sessions the storage fence could not cover: their writes waited for the fence delay instead. */
    long fallbacks() {
        return fallbacks.sum();
    }
}
