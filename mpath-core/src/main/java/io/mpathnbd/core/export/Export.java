package io.mpathnbd.core.export;

import io.mpathnbd.core.backend.BackendDriver;
import io.mpathnbd.core.observe.ExportObserver;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.path.PathConfig;
import io.mpathnbd.core.path.PathTimings;
import io.mpathnbd.core.policy.IoPolicies;
import io.mpathnbd.core.policy.IoPolicy;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.time.Durations;
import io.mpathnbd.core.zone.ZoneLayout;
import io.netty.util.concurrent.EventExecutorGroup;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The multipath disk (the kernel's "head"): one virtual disk over several paths.
 *
 * <p>This class is the export's face to the process (front end, admin API, metrics); the work is done by its parts:
 * <ul>
 *   <li>{@link Dispatcher}: a request's life (select a path, send, fail over, retry, fence, hold);</li>
 *   <li>{@link PathSet}: which paths belong to the export, the snapshot the iopolicy selects from, removal delay;</li>
 *   <li>{@link DiskProfile}: the advertised disk (size, identity, capabilities) and the admission of sessions;</li>
 *   <li>{@link PathEvents}: reactions to path state changes, failover logging and counting;</li>
 *   <li>{@link HoldQueue}, {@link WriteFence}, {@link FlushFanout}: parking without a path, in-doubt writes, and
 *       FLUSH across paths;</li>
 *   <li>{@link ControlSpread}: how control commands (persistent reservations) reach the paths: one, every live one,
 *       and every session before it carries I/O.</li>
 * </ul>
 */
public final class Export {
    private static final Logger LOG = LoggerFactory.getLogger(Export.class);

    private final ExportConfig config;
    private final ExportObserver observer;
    private final Timers timers;
    private final PathSet paths;
    private final DiskProfile disk;
    private final Dispatcher dispatcher;
    private final PathEvents events;
    private final ControlSpread control;
    private final PathTimings pathTimings;
    private final ZoneControl zoneControl;
    private final CompletableFuture<Void> closed = new CompletableFuture<>();

    /**
     * @param executors where timers (hold timeouts, fence delays, reconnect backoff, probes) run; the front end's
     *     event loop group
     */
    public Export(ExportConfig config, ExportObserver observer, EventExecutorGroup executors) {
        this.config = config;
        this.observer = observer == null ? ExportObserver.NONE : observer;
        this.timers = new Timers(executors);
        this.paths = new PathSet(config.name(), Durations.nanos(config.removalDelay()));
        this.disk = new DiskProfile(config, paths, timers);
        IoPolicy policy = IoPolicies.create(config.ioPolicy() == null ? IoPolicies.NUMA : config.ioPolicy());
        this.dispatcher = new Dispatcher(this, policy, this.observer, paths, disk, timers);
        this.control = new ControlSpread(config.name(), paths, dispatcher, timers);
        this.zoneControl = new ZoneControl(config.name(), disk, control, dispatcher);
        this.events = new PathEvents(this, this.observer, paths, disk, dispatcher.held, control, timers);
        this.pathTimings = new PathTimings(config.reconnectMin(), config.reconnectMax(), config.probeInterval(),
                config.failback() == FailbackMode.MANUAL);
    }

    // ---------------------------------------------------------------- the disk as clients see it

    public String name() {
        return config.name();
    }

    public ExportConfig config() {
        return config;
    }

    /** True once some path has connected and the export's geometry and capabilities are known. */
    public boolean ready() {
        return disk.ready();
    }

    /**
     * Runs {@code action} once the export is ready, at once if it is (on the calling thread), else on the thread that
     * makes it ready; the front end uses it to hold a client that asks for the export before any path is live.
     *
     * @return gives up the wait (call it when the client goes away)
     */
    public Runnable onReady(Runnable action) {
        return disk.onReady(action);
    }

    /** Whether the export can serve I/O now, and why not. */
    public ExportHealth health() {
        return ExportHealth.of(disk, paths);
    }

    /** Disk size in bytes (valid when ready). */
    public long size() {
        return disk.size();
    }

    /** Capability bits advertised to clients: the intersection over the paths, pinned once first advertised. */
    public int capabilities() {
        return disk.capabilities();
    }

    public int minBlockSize() {
        return disk.minBlockSize();
    }

    public int preferredBlockSize() {
        return disk.preferredBlockSize();
    }

    public int maxPayload() {
        return disk.maxPayload();
    }

    /**
     * The configured description, or null. Never a backend's own description: that may name local files or remote
     * hosts, which clients have no business seeing (the admin API shows it per path, through {@link Path#info()}).
     */
    public String description() {
        return config.description();
    }

    /** The zone layout every path shares, or null when the disk is not zoned. */
    public ZoneLayout zones() {
        return disk.zones();
    }

    /** Writes refused as unaligned before reaching a backend (0 for a plain export). */
    public long unalignedWriteRefusals() {
        return zoneControl.unalignedWriteRefusals();
    }

    /** Zone report and management; each command refuses clearly when the export is not zoned. */
    public ZoneControl zoneControl() {
        return zoneControl;
    }

    /** Disk identity shared by all paths, or null. */
    public String identity() {
        return disk.identity();
    }

    // ---------------------------------------------------------------- requests

    /**
     * Takes one request. The caller has validated it against size, limits and capabilities; the export answers
     * exactly once through the request's sink.
     */
    public void submit(BlockRequest request) {
        dispatcher.submit(request);
    }

    /** Sends control commands over the paths, and registers what every new session runs before it carries I/O. */
    public ControlSpread control() {
        return control;
    }

    // ---------------------------------------------------------------- paths and policy

    public List<Path> paths() {
        return List.of(paths.snapshot());
    }

    /** The path with this id, or null. */
    public Path path(String id) {
        return paths.byId(id);
    }

    private Path requirePath(String id) {
        Path p = path(id);
        if (p == null) {
            throw new IllegalArgumentException("export " + name() + " has no path '" + id + "'");
        }
        return p;
    }

    public String ioPolicy() {
        return dispatcher.policy().name();
    }

    /** Switches the iopolicy at run time; {@link IllegalArgumentException} for an unknown name. */
    public void ioPolicy(String name) {
        IoPolicy next = IoPolicies.create(name);
        String before = ioPolicy();
        dispatcher.policy(next);
        LOG.info("export {}: iopolicy {} -> {}", name(), before, next.name());
    }

    /** Adds a path; it starts connecting at once if the export has started. */
    public Path addPath(PathConfig pathConfig, BackendDriver driver) {
        Path p = paths.add(pathConfig.id(), id -> new Path(name(), id, pathConfig, driver, pathTimings, events,
                timers.next()));
        LOG.info("export {}: path {} added ({}, {}{})", name(), p.id(), p.uri(), p.accessState().label(),
                p.distance() != 0 ? ", distance " + p.distance() : "");
        observer.pathAdded(name(), p);
        if (paths.started()) {
            p.start();
        }
        return p;
    }

    /** Removes a path after draining it; {@link IllegalArgumentException} if unknown. */
    public CompletableFuture<Void> removePath(String id) {
        Path p = requirePath(id);
        LOG.info("export {}: removing path {} ({} requests in flight)", name(), id, p.inFlight());
        return p.remove();
    }

    /** Operator fail: the path stops carrying I/O (in-flight requests finish or fail over) until reinstated. */
    public void failPath(String id) {
        requirePath(id).disable();
    }

    /** Operator reinstate: the path reconnects (if needed) and carries I/O again. */
    public void reinstatePath(String id) {
        requirePath(id).reinstate();
    }

    // ---------------------------------------------------------------- counters

    /** Live paths that failed while they carried requests (which were failed over to other paths). */
    public long failovers() {
        return events.failovers();
    }

    /** Live paths that failed, with or without requests in flight; at least {@link #failovers()}. */
    public long pathFailures() {
        return events.pathFailures();
    }

    public long requeues() {
        return dispatcher.requeues();
    }

    /** Requests currently parked waiting for a usable path. */
    public int held() {
        return dispatcher.held.size();
    }

    /** In-doubt writes currently waiting for their path's session to close plus the fence delay. */
    public int fenced() {
        return dispatcher.fence.size();
    }

    /**
     * Installs the storage fence that in-doubt writes of a failed path wait for instead of the fence delay (null
     * removes it). See {@link WriteFence}.
     */
    public void storageFence(StorageFence fence) {
        dispatcher.fence.storage(fence);
    }

    /** Failed sessions whose in-doubt writes the storage fence covered (retried without the fence delay). */
    public long storageFences() {
        return dispatcher.fence.storageFences();
    }

    /** Failed sessions with writes in doubt that the storage fence could not cover (they waited the fence delay). */
    public long storageFenceFallbacks() {
        return dispatcher.fence.fallbacks();
    }

    /**
     * Pauses I/O: from now on every request is held (with its deadline) instead of sent, until as many
     * {@link #resumeIo()} calls; requests already sent finish on their paths ({@link #inFlight()} drains). For a
     * control command that must not race the export's own I/O (preempting our own key and registering it again).
     */
    public void pauseIo() {
        dispatcher.held.pause();
        LOG.info("export {}: I/O paused", name());
    }

    /** Ends a {@link #pauseIo()}; the last one resubmits the held requests. */
    public void resumeIo() {
        LOG.info("export {}: I/O resumed ({} held requests resubmitted)", name(), held());
        dispatcher.held.resume();
    }

    /** Requests sent on some path and not answered yet, over every path. */
    public int inFlight() {
        int n = 0;
        for (Path p : paths.snapshot()) {
            n += p.inFlight();
        }
        return n;
    }

    /** Requests the disk refused with RESERVATION CONFLICT (failed to the client with EPERM, no path failed). */
    public long reservationConflicts() {
        return dispatcher.conflicts.count();
    }

    /** The first RESERVATION CONFLICT since {@link #rearmReservationConflicts()}, as logged; null if none. */
    public String lastReservationConflict() {
        return dispatcher.conflicts.last();
    }

    /** Our key was registered again: the next RESERVATION CONFLICT is news, logged and shown again. */
    public void rearmReservationConflicts() {
        dispatcher.conflicts.rearm();
    }

    // ---------------------------------------------------------------- lifecycle

    /** Starts connecting every path; completes when the export is ready (or exceptionally if it never becomes so). */
    public CompletableFuture<Void> start() {
        if (paths.closed()) {
            return CompletableFuture.failedFuture(new IllegalStateException("export " + name() + " is closed"));
        }
        Path[] toStart = paths.start();
        if (toStart != null) {
            LOG.info("export {}: starting with {} path(s), iopolicy {}", name(), toStart.length, ioPolicy());
            for (Path p : toStart) {
                p.start();
            }
        }
        return disk.whenReady();
    }

    /** Fails held requests with ESHUTDOWN, closes every path. */
    public CompletableFuture<Void> close() {
        Path[] toClose = paths.close();
        if (toClose == null) {
            return closed;
        }
        int failed = dispatcher.failAllWaiting();
        disk.abandon();
        CompletableFuture<?>[] sessions = new CompletableFuture<?>[toClose.length];
        for (int i = 0; i < toClose.length; i++) {
            sessions[i] = toClose[i].shutdown("export closed");
        }
        LOG.info("export {}: closing ({} waiting requests failed with ESHUTDOWN)", name(), failed);
        CompletableFuture.allOf(sessions).whenComplete((v, e) -> closed.complete(null));
        return closed;
    }

    @Override
    public String toString() {
        return "export " + name();
    }
}
