package io.mpathnbd.server.frontend;

import io.mpathnbd.core.backend.ControlResult;
import io.mpathnbd.core.export.Export;
import io.mpathnbd.core.request.BlockFlags;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.core.request.Extents;
import io.mpathnbd.core.request.ReplySink;
import io.mpathnbd.core.zone.Zone;
import io.mpathnbd.core.zone.ZoneLayout;
import io.netty.buffer.ByteBuf;
import java.util.List;

/**
 * A BLOCK_STATUS on a connection that selected an {@code x-mpath} zone context: the zones are read through the
 * export ({@link io.mpathnbd.core.export.ZoneControl#report}), then, if {@code base:allocation} is selected too,
 * the allocation, and the client gets one chunk per selected context. At most {@link #MAX_ZONES} zones are described
 * per request (the spec lets a reply cover less than asked), so a huge range of small zones stays a bounded reply.
 */
final class ZoneStatusRequest implements ReplySink {
    static final int MAX_ZONES = 1024;

    private final ExportSession session;
    private final ReplyWriter replies;
    /** What the client is answered for. */
    private final BlockRequest whole;
    private volatile List<Zone> zones;

    ZoneStatusRequest(ExportSession session, ReplyWriter replies, int flags, long offset, int length, long cookie) {
        this.session = session;
        this.replies = replies;
        this.whole = new BlockRequest(BlockOp.BLOCK_STATUS, flags, offset, length, cookie, null, replies);
    }

    void start() {
        Export export = session.export();
        ZoneLayout l = export.zones();
        long span = l == null ? whole.length()
                : Math.min(Integer.toUnsignedLong(whole.length()),
                        MAX_ZONES * l.zoneSize() - (whole.offset() & (l.zoneSize() - 1)));
        export.zoneControl().report(whole.offset(), span).thenAccept(this::reported).exceptionally(e -> {
            // a bug on the way to the answer: the client still gets one
            replies.failed(whole, Errno.EIO, "internal error: " + e);
            return null;
        });
    }

    private void reported(ControlResult<List<Zone>> r) {
        if (r.succeeded() && r.value().isEmpty()) {
            replies.failed(whole, Errno.EIO, "zone report: no zone in the range");
            return;
        }
        if (!r.succeeded()) {
            int errno = r.failure().errno();
            replies.failed(whole, errno == 0 ? Errno.EIO : errno, "zone report: " + r.failure().message());
            return;
        }
        zones = r.value();
        if (session.metaContextId() == 0) {
            answer(null);
        } else if (!session.allocationFromExport()) {
            answer(Extents.allData(whole.length()));
        } else {
            BlockRequest alloc = new BlockRequest(BlockOp.BLOCK_STATUS, whole.flags(), whole.offset(), whole.length(),
                    whole.cookie(), null, this);
            session.export().submit(alloc);
        }
    }

    private void answer(Extents allocation) {
        List<Zone> z = zones;
        boolean one = whole.hasFlag(BlockFlags.REQ_ONE);
        Extents type = session.zoneContextId() == 0 ? null
                : ZoneExtents.typeCondition(z, whole.offset(), whole.length(), one);
        Extents wp = session.writePointerContextId() == 0 ? null
                : ZoneExtents.writePointer(z, whole.offset(), whole.length(), one);
        replies.blockStatus(whole, allocation, type, wp);
    }

    @Override
    public void succeeded(BlockRequest request, ByteBuf data, Extents extents) {
        if (data != null) {
            data.release();
        }
        answer(extents);
    }

    @Override
    public void failed(BlockRequest request, int errno, String message) {
        replies.failed(whole, errno, message);
    }
}
