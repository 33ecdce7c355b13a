package io.mpathnbd.core.path;

import io.mpathnbd.core.backend.AccessState;
import io.mpathnbd.core.backend.BackendDriver;
import io.mpathnbd.core.backend.BackendInfo;
import io.mpathnbd.core.request.BlockOp;
import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.CompletableFuture;

/**
 * One path of an export: a backend driver, its current session, state, access state and counters.
 *
 * <p>This class is the path's face to the export, the iopolicies and the process; its parts do the work: the
 * {@link PathStateMachine} owns the state (connecting, reconnecting, probing, retiring sessions) and {@link
 * PathCounters} the request accounting. The hot path never locks: selection reads volatile fields, accounting uses
 * atomics.
 *
 * <p>Created by the export, which sits above this package: a path knows its export only by name, and gets the
 * export's timings and services through {@link PathTimings} and {@link PathHost}. The constructor and the
 * request-accounting methods are public only because the export lives in another package.
 */
public final class Path {
    private final String exportName;
    private final String id;
    private final PathConfig config;
    private final BackendDriver driver;
    private final PathCounters counters = new PathCounters();
    private final PathStateMachine machine;
    private volatile double relativeThroughput = 1.0;

    /**
     * @param exportName the owning export's name, for log lines
     * @param executor where this path's timers (reconnect, probe, drain) run
     */
    public Path(String exportName, String id, PathConfig config, BackendDriver driver, PathTimings timings,
            PathHost host, EventExecutor executor) {
        this.exportName = exportName;
        this.id = id;
        this.config = config;
        this.driver = driver;
        this.machine = new PathStateMachine(this, driver, host, executor, timings, counters);
    }

    // ---------------------------------------------------------------- public read-only view

    /** Unique within the export (p0, p1, ... unless configured). */
    public String id() {
        return id;
    }

    /** Whether the path's disk is zoned, as its driver knows before connecting; null when only a session can tell. */
    public Boolean zoned() {
        return driver.zoned();
    }

    /** The driver's display URI (secrets removed). */
    public String uri() {
        return driver.displayUri();
    }

    /** The name of the export this path belongs to. */
    public String exportName() {
        return exportName;
    }

    /** Whether this path's transport has persistent reservations (iSCSI does; NBD and file do not). */
    public boolean offersReservations() {
        return driver.offersReservations();
    }

    public PathConfig config() {
        return config;
    }

    public PathState state() {
        return machine.state();
    }

    /**
     * The effective access state: the operator's (config or {@link #accessState(AccessState)}), combined with what
     * the live session reports when it is an {@link io.mpathnbd.core.backend.AccessStateSource}.
     */
    public AccessState accessState() {
        return machine.accessState();
    }

    /** Configured numa distance (lower is nearer). */
    public int distance() {
        return config.distance();
    }

    /** Requests currently sent on this path and not yet answered. */
    public int inFlight() {
        return counters.inFlight();
    }

    /** Payload bytes of those requests (service-time). */
    public long inFlightBytes() {
        return counters.inFlightBytes();
    }

    public long requests() {
        return counters.requests();
    }

    public long errors() {
        return counters.errors();
    }

    public long bytesRead() {
        return counters.bytesRead();
    }

    public long bytesWritten() {
        return counters.bytesWritten();
    }

    /** Last failure reason (for status output), or null. */
    public String lastError() {
        return machine.lastError();
    }

    /**
     * The info of the current or last session, or null if it never connected. Includes the backend's own
     * description, which is for the operator only (clients see the export's configured description).
     */
    public BackendInfo info() {
        return machine.info();
    }

    /**
     * True while the path is connected but kept out of selection because failback is manual and it came back after a
     * failure: the operator's reinstate puts it back into service.
     */
    public boolean awaitingReinstate() {
        return machine.awaitingReinstate();
    }

    /** True once the first connect attempt has finished, successfully or not. */
    public boolean attempted() {
        return machine.attempted();
    }

    /** True while the path is being removed (no longer selected, draining) or once removed. */
    public boolean removing() {
        return machine.retiring();
    }

    /** True when an iopolicy may choose this path: live, checked, an access state that carries I/O, in service. */
    public boolean selectable() {
        return machine.selectable();
    }

    /** Relative throughput for the service-time policy (1 unless set). */
    public double relativeThroughput() {
        return relativeThroughput;
    }

    public void relativeThroughput(double value) {
        if (!(value > 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException("relative throughput must be a positive number, not " + value);
        }
        relativeThroughput = value;
    }

    /** The session requests go to, or null when the path is not live. */
    public PathSession session() {
        return machine.session();
    }

    /** True when the live session's I/O runs on the calling thread's event loop (see EventLoopAffinity). */
    public boolean onCallerLoop() {
        PathSession s = machine.session();
        return s != null && s.onCallerLoop();
    }

    // ---------------------------------------------------------------- hot-path accounting (used by the export)

    public void beginRequest(int bytes) {
        counters.begin(bytes);
    }

    public void endRequest(BlockOp op, int bytes, boolean failed, long nowNanos) {
        counters.end(op, bytes, failed, nowNanos);
    }

    /** Remembers why a request failed on this path (status output). */
    public void noteError(String message) {
        machine.noteError(message);
    }

    /** A data-modifying request completed here: the next client FLUSH must reach this path. */
    public void noteModification() {
        counters.noteModification();
    }

    /** Snapshot to take before sending a FLUSH; pass it to {@link #flushedUpTo} when that FLUSH succeeds. */
    public long modificationMark() {
        return counters.modificationMark();
    }

    public void flushedUpTo(long mark) {
        counters.flushedUpTo(mark);
    }

    /** True if a data-modifying request completed here after the start of the last successful FLUSH. */
    public boolean hasUnflushedWrites() {
        return counters.hasUnflushedWrites();
    }

    // ---------------------------------------------------------------- commands

    /** Starts connecting (once); the export calls it when it starts, or at once for a path added later. */
    public void start() {
        machine.start();
    }

    /**
     * Fails the path because a request or probe on {@code failed} met a path error. Only the first report for the
     * current session changes anything.
     *
     * @return true if this call took the path from LIVE to FAILED
     */
    public boolean fail(PathSession failed, String reason) {
        return machine.fail(failed, reason);
    }

    /** Operator fail: the path stops carrying I/O; in-flight requests drain (bounded), then the session closes. */
    public void disable() {
        machine.disable();
    }

    /** Operator reinstate: reconnects a disabled, failed or refused path, or ends a manual-failback wait. */
    public void reinstate() {
        machine.reinstate();
    }

    /**
     * Sets the operator's access state. When the live session reports one itself (ALUA), the path's state combines
     * both: the operator can demote the path, the target decides within that (see {@link #accessState()}).
     */
    public void accessState(AccessState newState) {
        machine.accessState(newState);
    }

    /**
     * Takes the path out of service for good: no longer selected, in-flight requests finish (bounded by the request
     * timeout), the session closes, the state becomes REMOVED. Completes after the export has been told.
     */
    public CompletableFuture<Void> remove() {
        return machine.remove();
    }

    /** Export shutdown: closes at once (no drain), state REMOVED; completes when the session is closed. */
    public CompletableFuture<Void> shutdown(String reason) {
        return machine.shutdown(reason);
    }

    @Override
    public String toString() {
        return id;
    }
}
