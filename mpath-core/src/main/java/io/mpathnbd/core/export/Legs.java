package io.mpathnbd.core.export;

import io.mpathnbd.core.backend.Failure;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The answers of one command sent to several paths at once (a client FLUSH's legs, a control command on every live
 * path), gathered until the last one arrives: the command succeeds when every leg did. Of several failures the one
 * reported is the disk's own answer if a leg got one, since trying again would meet it again; else the first to
 * arrive. The subclass is the command's one object: gathering allocates nothing, and succeeding legs take no lock.
 */
abstract class Legs {
    private final AtomicInteger pending;
    private Failure failure; // guarded by this

    Legs(int legs) {
        if (legs <= 0) {
            throw new IllegalArgumentException("a command needs at least one leg, not " + legs);
        }
        this.pending = new AtomicInteger(legs);
    }

    final void legSucceeded() {
        arrived();
    }

    final void legFailed(Failure f) {
        synchronized (this) {
            if (failure == null || (f.isTargetError() && !failure.isTargetError())) {
                failure = f;
            }
        }
        arrived();
    }

    private void arrived() {
        if (pending.decrementAndGet() != 0) {
            return;
        }
        Failure f;
        synchronized (this) {
            f = failure;
        }
        done(f);
    }

    /** Called once, by the last leg's thread: {@code failure} is null when every leg succeeded. */
    abstract void done(Failure failure);
}
