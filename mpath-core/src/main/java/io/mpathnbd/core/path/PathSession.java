package io.mpathnbd.core.path;

import io.mpathnbd.core.backend.BackendSession;
import io.mpathnbd.core.backend.EventLoopAffinity;
import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.CompletableFuture;

/**
 * One backend session as a path uses it. Requests remember the session they were sent on, so a late failure from an
 * old session cannot fail the path's newer one, and so the write fence can wait for exactly that session's close.
 */
public final class PathSession {
    private final Path path;
    private final BackendSession backend;
    private final EventExecutor loop; // the session's only loop, or null when it has none (see EventLoopAffinity)
    private CompletableFuture<Void> closing; // guarded by this
    volatile boolean probePending;

    PathSession(Path path, BackendSession backend) {
        this.path = path;
        this.backend = backend;
        this.loop = backend instanceof EventLoopAffinity ? ((EventLoopAffinity) backend).eventLoop() : null;
    }

    public Path path() {
        return path;
    }

    public BackendSession backend() {
        return backend;
    }

    /** True when the session's I/O runs on the calling thread's event loop (never for a session on every loop). */
    public boolean onCallerLoop() {
        EventExecutor l = loop;
        return l != null && l.inEventLoop();
    }

    /**
     * Closes the backend session once, however many callers ask; the future completes when the backend can no longer
     * receive anything from this session.
     */
    public CompletableFuture<Void> close() {
        CompletableFuture<Void> f;
        synchronized (this) {
            f = closing;
            if (f != null) {
                return f;
            }
            f = new CompletableFuture<>();
            closing = f;
        }
        CompletableFuture<Void> backendClose;
        try {
            backendClose = backend.close();
        } catch (RuntimeException e) {
            backendClose = CompletableFuture.failedFuture(e);
        }
        CompletableFuture<Void> result = f;
        // a failed close still ends the session; the fence only needs to know that it is over
        backendClose.whenComplete((v, e) -> result.complete(null));
        return f;
    }

    @Override
    public String toString() {
        return "session of path " + path.id();
    }
}
