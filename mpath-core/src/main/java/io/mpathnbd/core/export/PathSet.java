package io.mpathnbd.core.export;

import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.path.PathState;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The export's paths: which paths belong to it, the lock-free snapshot the iopolicy selects from, path ids, whether
 * the export has started or closed, and the removal delay that keeps an export without paths holding I/O a while.
 *
 * <p>Membership changes under this object's lock; the hot path reads only the volatile snapshot. Every change
 * publishes a new array, which also tells per-thread policy caches that something changed.
 */
final class PathSet {
    private static final Path[] NONE = new Path[0];

    private final String exportName;
    private final long removalDelayNanos;

    private volatile Path[] snapshot = NONE;
    private volatile boolean started;
    private volatile boolean closed;
    private volatile boolean removalDelayActive;
    private volatile long removalDeadline;

    // guarded by this
    private final List<Path> members = new ArrayList<>();
    private int nextNumber;

    PathSet(String exportName, long removalDelayNanos) {
        this.exportName = exportName;
        this.removalDelayNanos = removalDelayNanos;
    }

    /** The paths not yet removed (do not modify). */
    Path[] snapshot() {
        return snapshot;
    }

    boolean started() {
        return started;
    }

    boolean closed() {
        return closed;
    }

    long removalDelayNanos() {
        return removalDelayNanos;
    }

    /**
     * Adds the path {@code factory} makes for its id: the configured one, else the first free of p0, p1, ...
     *
     * @throws IllegalStateException if the export is closed
     * @throws IllegalArgumentException if the configured id is taken
     */
    synchronized Path add(String requestedId, Function<String, Path> factory) {
        if (closed) {
            throw new IllegalStateException("export " + exportName + " is closed");
        }
        String id = requestedId;
        if (id == null || id.isBlank()) {
            do {
                id = "p" + nextNumber++;
            } while (member(id) != null);
        } else if (member(id) != null) {
            throw new IllegalArgumentException("export " + exportName + " already has a path '" + id + "'");
        }
        Path p = factory.apply(id);
        members.add(p);
        removalDelayActive = false;
        publish();
        return p;
    }

    /**
     * Drops a removed path. If it was the last one, the removal delay starts (unless the export is closing).
     *
     * @return true if the export is now without paths, within its removal delay
     */
    synchronized boolean remove(Path p) {
        members.remove(p);
        if (members.isEmpty() && !closed) {
            removalDelayActive = true;
            removalDeadline = System.nanoTime() + removalDelayNanos;
        }
        publish();
        return removalDelayActive && snapshot.length == 0;
    }

    /** Publishes a fresh snapshot after a path changed state. */
    synchronized void republish() {
        publish();
    }

    /** Ends the removal delay if it has run out without a new path; true if it did. */
    synchronized boolean endRemovalDelay() {
        if (!members.isEmpty() || !removalDelayActive || System.nanoTime() - removalDeadline < 0) {
            return false; // a path came, or a later removal started a new delay with its own timer
        }
        removalDelayActive = false;
        return true;
    }

    /** Marks the export started; the paths to start now, or null if it had started or is closed. */
    synchronized Path[] start() {
        if (started || closed) {
            return null;
        }
        started = true;
        return members.toArray(NONE);
    }

    /** Closes the set to new paths; the paths to shut down, or null if it was closed already. */
    synchronized Path[] close() {
        if (closed) {
            return null;
        }
        closed = true;
        return members.toArray(NONE);
    }

    private void publish() {
        List<Path> live = new ArrayList<>(members.size());
        for (Path m : members) {
            if (m.state() != PathState.REMOVED) {
                live.add(m);
            }
        }
        snapshot = live.toArray(NONE);
    }

    private Path member(String id) {
        for (Path m : members) {
            if (m.id().equals(id)) {
                return m;
            }
        }
        return null;
    }

    // ------------------------------------------------------------ views of the snapshot

    /** The path with this id, or null. */
    Path byId(String id) {
        for (Path p : snapshot) {
            if (p.id().equals(id)) {
                return p;
            }
        }
        return null;
    }

    /** Paths that could take a request now. */
    int usableCount() {
        int n = 0;
        for (Path p : snapshot) {
            if (p.selectable() && p.session() != null) {
                n++;
            }
        }
        return n;
    }

    /** Whether some path could take a request now. */
    boolean anyUsable() {
        for (Path p : snapshot) {
            if (p.selectable() && p.session() != null) {
                return true;
            }
        }
        return false;
    }

    /** Whether some path may become usable without the operator: connecting, reconnecting, or in removal delay. */
    boolean mayComeBack() {
        if (removalDelayActive && System.nanoTime() - removalDeadline < 0) {
            return true;
        }
        for (Path p : snapshot) {
            if (p.removing()) {
                continue;
            }
            PathState s = p.state();
            if (s == PathState.CONNECTING || s == PathState.FAILED || (s == PathState.LIVE && p.awaitingReinstate())) {
                return true;
            }
        }
        return false;
    }

    int liveCount() {
        int n = 0;
        for (Path p : snapshot) {
            if (p.state() == PathState.LIVE) {
                n++;
            }
        }
        return n;
    }

    /** One line on every path, for messages about why no path could take a request. */
    String summary() {
        Path[] paths = snapshot;
        if (paths.length == 0) {
            return removalDelayActive ? "no paths; within removal delay" : "no paths";
        }
        StringBuilder sb = new StringBuilder();
        for (Path p : paths) {
            if (sb.length() > 0) {
                sb.append("; ");
            }
            sb.append(p.id()).append(' ').append(p.state().label());
            if (p.awaitingReinstate()) {
                sb.append(" awaiting reinstate");
            } else if (p.state() == PathState.LIVE && !p.accessState().carriesIo()) {
                sb.append(' ').append(p.accessState().label());
            }
            String err = p.lastError();
            if (err != null && p.state() != PathState.LIVE) {
                sb.append(": ").append(err);
            }
        }
        return sb.toString();
    }
}
