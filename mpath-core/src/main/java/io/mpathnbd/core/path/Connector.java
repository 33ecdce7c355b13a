package io.mpathnbd.core.path;

import io.mpathnbd.core.backend.BackendDriver;
import io.mpathnbd.core.backend.BackendSession;
import io.mpathnbd.core.time.Durations;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A path's driver as its state machine uses it: opens sessions, each attempt guarded by a timer in case the driver's
 * own connect timeout never fires; discards sessions nobody will use; shuts the driver down at the end.
 */
final class Connector {
    private static final Logger LOG = LoggerFactory.getLogger(Path.class); // log lines read as the path's

    private final Path path;
    private final BackendDriver driver;
    private final PathStateMachine machine;
    private final long guardNanos;

    Connector(Path path, BackendDriver driver, PathStateMachine machine) {
        this.path = path;
        this.driver = driver;
        this.machine = machine;
        PathConfig config = path.config();
        Duration connect = config.driverOptions() == null ? null : config.driverOptions().connectTimeout();
        if (connect == null || connect.isZero() || connect.isNegative()) {
            connect = Duration.ofSeconds(5);
        }
        this.guardNanos = connect.multipliedBy(2).plusSeconds(1).toNanos();
    }

    /** How long a connect attempt may take before the guard gives up on it; also bounds a session's admission. */
    long guardNanos() {
        return guardNanos;
    }

    /** Starts one attempt; its outcome (or the guard's) goes to the machine with {@code generation}. */
    void connect(int generation) {
        CompletableFuture<BackendSession> f;
        try {
            f = driver.connect();
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        ScheduledFuture<?> guard = machine.schedule(() -> machine.connectTimedOut(generation,
                "connect did not complete within " + Durations.format(guardNanos)), guardNanos);
        f.whenComplete((s, e) -> {
            if (guard != null) {
                guard.cancel(false);
            }
            machine.connected(generation, s, e);
        });
    }

    /** Closes a session that will not be used (late, or refused by the export). */
    static void discard(BackendSession s) {
        try {
            s.close();
        } catch (RuntimeException e) {
            LOG.debug("closing a session failed", e);
        }
    }

    void shutdown() {
        try {
            driver.shutdown();
        } catch (RuntimeException e) {
            LOG.warn("export {}: path {}: driver shutdown failed", path.exportName(), path.id(), e);
        }
    }
}
