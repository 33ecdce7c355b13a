package io.mpathnbd.core.path;

import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a path's state machine decides under its lock but must do without it (telling the export, closing sessions,
 * connecting): queued in order, and run by the outermost caller once the lock is released, one thread at a time, so
 * the export sees a path's events in the order they happened. The queue is guarded by the state machine's lock, so
 * no action starts before the transition that queued it is complete.
 */
final class DeferredActions {
    private static final Logger LOG = LoggerFactory.getLogger(Path.class); // log lines read as the path's

    private final Path path;
    private final Object owner;
    // guarded by owner
    private final ArrayDeque<Runnable> queue = new ArrayDeque<>();
    private boolean running;

    /** @param owner the lock that guards the queue, and that the actions must never run under */
    DeferredActions(Path path, Object owner) {
        this.path = path;
        this.owner = owner;
    }

    /** Queues an action; the owner's lock is held. */
    void add(Runnable action) {
        queue.add(action);
    }

    /** Runs the queued actions, unless called under the owner's lock or while another thread runs them. */
    void run() {
        if (Thread.holdsLock(owner)) {
            return; // the outermost caller runs them
        }
        synchronized (owner) {
            if (running || queue.isEmpty()) {
                return;
            }
            running = true;
        }
        for (;;) {
            Runnable r;
            synchronized (owner) {
                r = queue.poll();
                if (r == null) {
                    running = false;
                    return;
                }
            }
            try {
                r.run();
            } catch (RuntimeException e) {
                LOG.error("export {}: path {}: internal error", path.exportName(), path.id(), e);
            }
        }
    }
}
