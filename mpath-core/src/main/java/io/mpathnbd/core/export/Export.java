package io.mpathnbd.core.export;

import io.mpathnbd.core.backend.BackendDriver;
import io.mpathnbd.core.observe.ExportObserver;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.path.PathConfig;
import io.mpathnbd.core.request.BlockRequest;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The multipath disk (the kernel's "head"): its paths, iopolicy, requeue/hold queue, flush tracking and fence.
 * SKELETON: the public surface below is the contract; the core implementation fills it in.
 */
public final class Export {

    /**
     * @param executors where timers (hold timeouts, fence delays, reconnect backoff, probes) run; the front end's
     *     event loop group
     */
    public Export(ExportConfig config, ExportObserver observer, io.netty.util.concurrent.EventExecutorGroup executors) {
        throw new UnsupportedOperationException("core in progress");
    }

    public String name() {
        throw new UnsupportedOperationException("core in progress");
    }

    public ExportConfig config() {
        throw new UnsupportedOperationException("core in progress");
    }

    /** True once some path has connected and the export's geometry and capabilities are known. */
    public boolean ready() {
        throw new UnsupportedOperationException("core in progress");
    }

    /** Disk size in bytes (valid when ready). */
    public long size() {
        throw new UnsupportedOperationException("core in progress");
    }

    /** Capability bits advertised to clients: the intersection over the paths, pinned once first advertised. */
    public int capabilities() {
        throw new UnsupportedOperationException("core in progress");
    }

    public int minBlockSize() {
        throw new UnsupportedOperationException("core in progress");
    }

    public int preferredBlockSize() {
        throw new UnsupportedOperationException("core in progress");
    }

    public int maxPayload() {
        throw new UnsupportedOperationException("core in progress");
    }

    public String description() {
        throw new UnsupportedOperationException("core in progress");
    }

    /** Disk identity shared by all paths, or null. */
    public String identity() {
        throw new UnsupportedOperationException("core in progress");
    }

    /**
     * Takes one request. The caller has validated it against size, limits and capabilities; the export answers
     * exactly once through the request's sink.
     */
    public void submit(BlockRequest request) {
        throw new UnsupportedOperationException("core in progress");
    }

    public List<Path> paths() {
        throw new UnsupportedOperationException("core in progress");
    }

    public Path path(String id) {
        throw new UnsupportedOperationException("core in progress");
    }

    public String ioPolicy() {
        throw new UnsupportedOperationException("core in progress");
    }

    /** Switches the iopolicy at run time; {@link IllegalArgumentException} for an unknown name. */
    public void ioPolicy(String name) {
        throw new UnsupportedOperationException("core in progress");
    }

    public Path addPath(PathConfig config, BackendDriver driver) {
        throw new UnsupportedOperationException("core in progress");
    }

    /** Removes a path after draining it; {@link IllegalArgumentException} if unknown. */
    public CompletableFuture<Void> removePath(String id) {
        throw new UnsupportedOperationException("core in progress");
    }

    /** Operator fail: the path stops carrying I/O (in-flight requests finish or fail over) until reinstated. */
    public void failPath(String id) {
        throw new UnsupportedOperationException("core in progress");
    }

    /** Operator reinstate: the path reconnects (if needed) and carries I/O again. */
    public void reinstatePath(String id) {
        throw new UnsupportedOperationException("core in progress");
    }

    public long failovers() {
        throw new UnsupportedOperationException("core in progress");
    }

    public long requeues() {
        throw new UnsupportedOperationException("core in progress");
    }

    /** Requests currently parked waiting for a usable path. */
    public int held() {
        throw new UnsupportedOperationException("core in progress");
    }

    /** Starts connecting every path; completes when the export is ready (or exceptionally if it never becomes so). */
    public CompletableFuture<Void> start() {
        throw new UnsupportedOperationException("core in progress");
    }

    /** Fails held requests with ESHUTDOWN, closes every path. */
    public CompletableFuture<Void> close() {
        throw new UnsupportedOperationException("core in progress");
    }
}
