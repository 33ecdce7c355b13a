package io.mpathnbd.core.support;

import io.mpathnbd.core.backend.BackendCallback;
import io.mpathnbd.core.backend.BackendInfo;
import io.mpathnbd.core.backend.BackendSession;
import io.mpathnbd.core.request.BlockRequest;
import java.util.concurrent.CompletableFuture;

/** A real session passed through unchanged, for test wrappers that add one capability on top of it. */
public abstract class DelegatingSession implements BackendSession {
    private final BackendSession backend;

    protected DelegatingSession(BackendSession backend) {
        this.backend = backend;
    }

    /** The wrapped session (e.g. to close it underneath the wrapper). */
    public BackendSession backend() {
        return backend;
    }

    @Override
    public BackendInfo info() {
        return backend.info();
    }

    @Override
    public void submit(BlockRequest request, BackendCallback callback) {
        backend.submit(request, callback);
    }

    @Override
    public CompletableFuture<Void> probe() {
        return backend.probe();
    }

    @Override
    public CompletableFuture<Void> close() {
        return backend.close();
    }

    @Override
    public CompletableFuture<Void> closeFuture() {
        return backend.closeFuture();
    }

    @Override
    public String lossReason() {
        return backend.lossReason();
    }
}
