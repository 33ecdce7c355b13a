package io.mpathnbd.core.support;

import io.mpathnbd.core.observe.ExportObserver;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.path.PathState;
import io.mpathnbd.core.request.BlockOp;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** Remembers what the export reported. */
public final class RecordingObserver implements ExportObserver {
    public final List<String> failovers = new CopyOnWriteArrayList<>();
    public final List<String> transitions = new CopyOnWriteArrayList<>();
    public final List<String> added = new CopyOnWriteArrayList<>();
    public final List<String> removed = new CopyOnWriteArrayList<>();
    public final AtomicInteger requeued = new AtomicInteger();
    public final AtomicInteger held = new AtomicInteger();
    public final AtomicInteger completed = new AtomicInteger();
    public final AtomicInteger completedFailed = new AtomicInteger();

    @Override
    public void requestCompleted(Path path, BlockOp op, int bytes, long nanos, boolean failed) {
        completed.incrementAndGet();
        if (failed) {
            completedFailed.incrementAndGet();
        }
    }

    @Override
    public void failover(String export, Path from, String reason) {
        failovers.add(from.id() + ": " + reason);
    }

    @Override
    public void requeued(String export, Path from) {
        requeued.incrementAndGet();
    }

    @Override
    public void held(String export) {
        held.incrementAndGet();
    }

    @Override
    public void pathStateChanged(String export, Path path, PathState from, PathState to, String reason) {
        transitions.add(path.id() + " " + from + "->" + to + ": " + reason);
    }

    @Override
    public void pathAdded(String export, Path path) {
        added.add(path.id());
    }

    @Override
    public void pathRemoved(String export, Path path) {
        removed.add(path.id());
    }
}
