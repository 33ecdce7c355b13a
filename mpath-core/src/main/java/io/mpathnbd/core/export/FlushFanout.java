package io.mpathnbd.core.export;

import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.path.PathSession;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.core.request.Extents;
import io.mpathnbd.core.request.ReplySink;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One client FLUSH sent to several paths at once, {@link ControlSpread}'s I/O mode: paths chosen by
 * {@link ControlSpread#usable}, answers gathered by {@link Legs} as for {@link ControlSpread#toEveryLive}. Each leg is
 * an ordinary request of the export (so a leg that meets a path error is retried on another live path, held or
 * fenced like any other); the client's FLUSH succeeds when every leg has succeeded, else fails with the leg error
 * {@link Legs} picks.
 */
final class FlushFanout extends Legs implements ReplySink {
    private static final Path[] NO_PATHS = new Path[0];
    private static final long[] NO_MARKS = new long[0];

    private final BlockRequest client;
    /** Dirty paths that were not live: covered by flushing every live path (shared disk), marked when all succeed. */
    private final Path[] covered;
    private final long[] coveredMarks;

    private FlushFanout(BlockRequest client, int legs, Path[] covered, long[] coveredMarks) {
        super(legs);
        this.client = client;
        this.covered = covered;
        this.coveredMarks = coveredMarks;
    }

    /**
     * A client FLUSH covers every write it saw completed, whichever path carried it, so it goes (in parallel) to every
     * live path that completed writes since its last flush. If such a path is not live, every live path is flushed
     * instead: all paths reach one shared disk, so a flush through any of them reaches the storage those writes went
     * to, as far as anything still can. With no unflushed writes anywhere, one path is flushed (cheap, and safe).
     */
    static void flush(BlockRequest request, Path[] paths, Dispatcher dispatcher) {
        int dirtyLive = 0;
        int dirtyElsewhere = 0;
        for (Path p : paths) {
            if (p.hasUnflushedWrites()) {
                if (flushable(p)) {
                    dirtyLive++;
                } else {
                    dirtyElsewhere++;
                }
            }
        }
        if (dirtyLive == 0 && dirtyElsewhere == 0) {
            dispatcher.dispatch(request, null);
            return;
        }
        Path[] targets;
        Path[] covered = NO_PATHS;
        long[] coveredMarks = NO_MARKS;
        if (dirtyElsewhere == 0) {
            targets = new Path[dirtyLive];
            int n = 0;
            for (Path p : paths) {
                if (n < targets.length && p.hasUnflushedWrites() && flushable(p)) {
                    targets[n++] = p;
                }
            }
            targets = n == targets.length ? targets : Arrays.copyOf(targets, n);
        } else {
            List<Path> live = new ArrayList<>();
            List<Path> elsewhere = new ArrayList<>();
            for (Path p : paths) {
                if (flushable(p) && (p.selectable() || p.hasUnflushedWrites())) {
                    live.add(p);
                } else if (p.hasUnflushedWrites()) {
                    elsewhere.add(p);
                }
            }
            targets = live.toArray(NO_PATHS);
            covered = elsewhere.toArray(NO_PATHS);
            coveredMarks = new long[covered.length];
            for (int i = 0; i < covered.length; i++) {
                coveredMarks[i] = covered[i].modificationMark();
            }
        }
        if (targets.length == 0) {
            dispatcher.dispatch(request, null); // nothing live: wait for a path like any request
            return;
        }
        FlushFanout fanout = new FlushFanout(request, targets.length, covered, coveredMarks);
        for (Path t : targets) {
            BlockRequest leg = fanout.leg();
            PathSession s = t.session();
            if (s != null) {
                dispatcher.send(leg, t, s);
            } else {
                dispatcher.dispatch(leg, null);
            }
        }
    }

    private static boolean flushable(Path p) {
        return ControlSpread.usable(p);
    }

    private BlockRequest leg() {
        BlockRequest leg = new BlockRequest(client.op(), client.flags(), client.offset(), client.length(),
                client.cookie(), null, this);
        leg.startNanos(client.startNanos());
        leg.deadlineNanos(client.deadlineNanos());
        return leg;
    }

    @Override
    public void succeeded(BlockRequest leg, ByteBuf data, Extents extents) {
        if (data != null) {
            data.release();
        }
        legSucceeded();
    }

    /**
     * What reaches a leg's sink is its final answer (the dispatcher has moved it over paths on path errors), so it
     * counts as the disk's: only its errno and message reach the client.
     */
    @Override
    public void failed(BlockRequest leg, int legErrno, String legMessage) {
        legFailed(Failure.target(legErrno == 0 ? Errno.EIO : legErrno, legMessage));
    }

    @Override
    void done(Failure failure) {
        client.releasePayload();
        if (failure != null) {
            client.sink().failed(client, failure.errno(), failure.message());
            return;
        }
        for (int i = 0; i < covered.length; i++) {
            covered[i].flushedUpTo(coveredMarks[i]);
        }
        client.sink().succeeded(client, null, null);
    }
}
