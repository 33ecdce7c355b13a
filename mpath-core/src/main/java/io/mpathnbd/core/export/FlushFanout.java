package io.mpathnbd.core.export;

import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.core.request.Extents;
import io.mpathnbd.core.request.ReplySink;
import io.netty.buffer.ByteBuf;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One client FLUSH sent to several paths at once. Each leg is an ordinary request of the export (so a leg that meets
 * a path error is retried on another live path, held or fenced like any other); the client's FLUSH succeeds when
 * every leg has succeeded, else fails with the first leg's error.
 */
final class FlushFanout implements ReplySink {
    private final BlockRequest client;
    private final AtomicInteger pending;
    /** Dirty paths that were not live: covered by flushing every live path (shared disk), marked when all succeed. */
    private final Path[] covered;
    private final long[] coveredMarks;
    private volatile int errno;
    private volatile String message;

    FlushFanout(BlockRequest client, int legs, Path[] covered, long[] coveredMarks) {
        this.client = client;
        this.pending = new AtomicInteger(legs);
        this.covered = covered;
        this.coveredMarks = coveredMarks;
    }

    BlockRequest leg() {
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
        legDone();
    }

    @Override
    public void failed(BlockRequest leg, int legErrno, String legMessage) {
        synchronized (this) {
            if (errno == 0) {
                message = legMessage;
                errno = legErrno == 0 ? Errno.EIO : legErrno;
            }
        }
        legDone();
    }

    private void legDone() {
        if (pending.decrementAndGet() != 0) {
            return;
        }
        client.releasePayload();
        if (errno != 0) {
            client.sink().failed(client, errno, message);
            return;
        }
        for (int i = 0; i < covered.length; i++) {
            covered[i].flushedUpTo(coveredMarks[i]);
        }
        client.sink().succeeded(client, null, null);
    }
}
