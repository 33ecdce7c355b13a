package io.mpathnbd.core.export;

import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.request.Extents;
import io.mpathnbd.core.request.ReplySink;
import io.netty.buffer.ByteBuf;

/**
 * A client's write to a sequential zone, as the export sends it: the client's request stays here while an attempt
 * (a request of the export's own, answering to this sink) travels the paths. After a path error the attempt is not
 * resent as is: {@link ZonedWrites} reads the write pointer first and sends what did not land.
 */
final class ZoneWrite implements ReplySink {
    final ZonedWrites owner;
    final ZonePlug plug;
    final BlockRequest client;
    /** The attempt now in flight; replaced by one for the rest when part of the write landed. */
    BlockRequest attempt;

    ZoneWrite(ZonedWrites owner, ZonePlug plug, BlockRequest client) {
        this.owner = owner;
        this.plug = plug;
        this.client = client;
        this.attempt = attemptFor(client.offset(), client.length());
    }

    /** An attempt for the client's bytes from {@code offset} on; the payload slice is its own reference. */
    BlockRequest attemptFor(long offset, int length) {
        ByteBuf p = client.payload();
        ByteBuf slice = p == null ? null : p.retainedSlice(p.readerIndex() + (int) (offset - client.offset()), length);
        BlockRequest a = new BlockRequest(client.op(), client.flags(), offset, length, client.cookie(), slice, this);
        a.startNanos(client.startNanos());
        a.deadlineNanos(client.deadlineNanos());
        a.exportState(this);
        return a;
    }

    /** One past the client's last byte. */
    long end() {
        return client.offset() + client.length();
    }

    @Override
    public void succeeded(BlockRequest request, ByteBuf data, Extents extents) {
        if (data != null) {
            data.release();
        }
        owner.landed(this, request.offset() + request.length());
    }

    @Override
    public void failed(BlockRequest request, int errno, String message) {
        owner.refused(this, errno, message);
    }
}
