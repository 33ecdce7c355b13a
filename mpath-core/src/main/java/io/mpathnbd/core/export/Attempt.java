package io.mpathnbd.core.export;

import io.mpathnbd.core.backend.BackendCallback;
import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.path.PathSession;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.request.Extents;
import io.netty.buffer.ByteBuf;

/**
 * One try of one request on one path's session: the only object the hot path allocates per request. It remembers
 * the session (so a failure fails that session, not a newer one) and, for a FLUSH, how far that path's writes went
 * when the FLUSH was sent.
 */
final class Attempt implements BackendCallback {
    final Dispatcher dispatcher;
    final BlockRequest request;
    final Path path;
    final PathSession session;
    final int bytes;
    final long startNanos;
    final long flushMark;

    Attempt(Dispatcher dispatcher, BlockRequest request, Path path, PathSession session, int bytes, long startNanos,
            long flushMark) {
        this.dispatcher = dispatcher;
        this.request = request;
        this.path = path;
        this.session = session;
        this.bytes = bytes;
        this.startNanos = startNanos;
        this.flushMark = flushMark;
    }

    @Override
    public void succeeded(ByteBuf data, Extents extents) {
        dispatcher.succeeded(this, data, extents);
    }

    @Override
    public void failed(Failure failure) {
        dispatcher.failed(this, failure);
    }
}
