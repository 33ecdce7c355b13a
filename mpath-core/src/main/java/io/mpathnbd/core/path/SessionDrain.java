package io.mpathnbd.core.path;

import io.mpathnbd.core.time.Durations;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a session that takes no new requests once the path's requests in flight are answered, or once the request
 * timeout has passed (the rest then fail over), or at once if the session is already lost.
 */
final class SessionDrain implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(Path.class); // log lines read as the path's
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    private static final Duration DEFAULT_BOUND = Duration.ofSeconds(5);

    private final Path path;
    private final PathSession session;
    private final EventExecutor executor;
    private final Runnable onClosed;
    private final long boundNanos;
    private final long deadline;
    private final CompletableFuture<Void> done = new CompletableFuture<>();

    private SessionDrain(Path path, PathSession session, EventExecutor executor, Runnable onClosed) {
        this.path = path;
        this.session = session;
        this.executor = executor;
        this.onClosed = onClosed;
        Duration bound = path.config().driverOptions() == null ? null : path.config().driverOptions().requestTimeout();
        if (bound == null || bound.isZero() || bound.isNegative()) {
            bound = DEFAULT_BOUND;
        }
        this.boundNanos = bound.toNanos();
        this.deadline = System.nanoTime() + boundNanos;
    }

    /**
     * Starts draining {@code session}; {@code onClosed} runs once it is closed, before the returned future completes.
     */
    static CompletableFuture<Void> drainThenClose(Path path, PathSession session, EventExecutor executor,
            Runnable onClosed) {
        SessionDrain drain = new SessionDrain(path, session, executor, onClosed);
        drain.run();
        return drain.done;
    }

    @Override
    public void run() {
        int inFlight = path.inFlight();
        boolean lost = session.backend().closeFuture().isDone();
        if (inFlight == 0 || lost || System.nanoTime() - deadline >= 0) {
            if (inFlight != 0 && !lost) {
                LOG.warn("export {}: path {}: closing with {} requests still in flight after {}; they fail over",
                        path.exportName(), path.id(), inFlight, Durations.format(boundNanos));
            }
            close();
            return;
        }
        try {
            executor.schedule(this, POLL_NANOS, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            close(); // the executor is shutting down: so is the export
        }
    }

    private void close() {
        session.close().whenComplete((v, e) -> {
            onClosed.run();
            done.complete(null);
        });
    }
}
