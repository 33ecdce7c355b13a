package io.mpathnbd.server.frontend;

import io.mpathnbd.core.request.BlockFlags;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.core.request.Extents;
import io.mpathnbd.core.request.ReplySink;
import io.mpathnbd.nbd.protocol.NbdBlockStatusChunk;
import io.mpathnbd.nbd.protocol.NbdConstants;
import io.mpathnbd.nbd.protocol.NbdErrorChunk;
import io.mpathnbd.nbd.protocol.NbdNoneChunk;
import io.mpathnbd.nbd.protocol.NbdOffsetDataChunk;
import io.mpathnbd.nbd.protocol.NbdSimpleReply;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns outcomes into NBD replies for one connection: the {@link ReplySink} the core answers through, plus the
 * answers the front end gives itself. Simple replies unless structured replies were negotiated; then READ data goes
 * out as one OFFSET_DATA chunk (the buffer is passed on, not copied), errors as an ERROR chunk with a message, block
 * status as one BLOCK_STATUS chunk, and other successes as simple replies (which the spec allows). With extended
 * headers every reply is a chunk that echoes the request's offset: other successes are a NONE chunk, and block status
 * is one BLOCK_STATUS_EXT chunk (64-bit extent lengths; the spec lets the server pick either type).
 *
 * <p>The core may answer on any thread: replies are moved to the channel's event loop (where the connection's state
 * lives), directly when already there. Each reply is written with writeAndFlush; the pipeline's
 * FlushConsolidationHandler turns a burst of them into few socket flushes.
 */
final class ReplyWriter implements ReplySink {
    private static final Logger LOG = LoggerFactory.getLogger(ReplyWriter.class);
    /** Error messages are display text; the spec caps strings at 4096 bytes, and 1000 chars stay well below it. */
    private static final int MAX_MESSAGE_CHARS = 1000;

    private final ChannelHandlerContext ctx;
    private final EventExecutor loop;
    private final ExportSession session;
    private final boolean structured;
    private final boolean extended;
    private final TransmissionHandler owner;

    ReplyWriter(ChannelHandlerContext ctx, ExportSession session, TransmissionHandler owner) {
        this.ctx = ctx;
        this.loop = ctx.executor();
        this.session = session;
        this.structured = session.structuredReplies() || session.extendedHeaders();
        this.extended = session.extendedHeaders();
        this.owner = owner;
    }

    @Override
    public void succeeded(BlockRequest request, ByteBuf data, Extents extents) {
        if (loop.inEventLoop()) {
            onSucceeded(request, data, extents);
            return;
        }
        try {
            loop.execute(() -> onSucceeded(request, data, extents));
        } catch (RejectedExecutionException e) {
            // the event loop is gone and the connection with it: nobody will send this data
            release(data);
        }
    }

    @Override
    public void failed(BlockRequest request, int errno, String message) {
        if (loop.inEventLoop()) {
            onFailed(request, errno, message);
            return;
        }
        try {
            loop.execute(() -> onFailed(request, errno, message));
        } catch (RejectedExecutionException e) {
            // the event loop is gone and the connection with it
        }
    }

    /** A refusal by the front end itself (event loop). */
    void rejected(long cookie, long offset, Rejection why) {
        write(error(cookie, offset, why.errno(), why.message()));
    }

    /** A zero-length request: nothing to do, success (event loop). A structured READ reply cannot be a simple one. */
    void emptySuccess(int type, long cookie, long offset) {
        write(extended || structured && type == NbdConstants.CMD_READ ? new NbdNoneChunk(cookie).requestOffset(offset)
                : new NbdSimpleReply(0, cookie));
    }

    /** BLOCK_STATUS for an export without allocation information: all data, which is always a safe answer. */
    void allData(long cookie, long offset, int length) {
        write(new NbdBlockStatusChunk(NbdConstants.REPLY_FLAG_DONE, cookie, session.metaContextId(),
                Extents.allData(length), extended).requestOffset(offset));
    }

    /**
     * BLOCK_STATUS with several contexts (any may be null: not selected): one chunk per context, DONE on the last
     * (any thread).
     */
    void blockStatus(BlockRequest request, Extents allocation, Extents zoneTypes, Extents writePointers) {
        if (!loop.inEventLoop()) {
            try {
                loop.execute(() -> blockStatus(request, allocation, zoneTypes, writePointers));
            } catch (RejectedExecutionException e) {
                // the event loop is gone and the connection with it
            }
            return;
        }
        try {
            if (!ctx.channel().isActive()) {
                return;
            }
            boolean one = request.hasFlag(BlockFlags.REQ_ONE);
            int last = writePointers != null ? 3 : zoneTypes != null ? 2 : 1;
            if (allocation != null) {
                statusChunk(request, session.metaContextId(), fit(allocation, request.length(), one), last == 1);
            }
            if (zoneTypes != null) {
                statusChunk(request, session.zoneContextId(), zoneTypes, last == 2);
            }
            if (writePointers != null) {
                statusChunk(request, session.writePointerContextId(), writePointers, true);
            }
        } finally {
            owner.completed(request);
        }
    }

    private void statusChunk(BlockRequest request, int contextId, Extents extents, boolean done) {
        write(new NbdBlockStatusChunk(done ? NbdConstants.REPLY_FLAG_DONE : 0, request.cookie(), contextId, extents,
                extended).requestOffset(request.offset()));
    }

    private void onSucceeded(BlockRequest request, ByteBuf data, Extents extents) {
        try {
            if (!ctx.channel().isActive()) {
                release(data);
                return;
            }
            write(success(request, data, extents));
        } finally {
            owner.completed(request);
        }
    }

    private void onFailed(BlockRequest request, int errno, String message) {
        try {
            if (ctx.channel().isActive()) {
                write(error(request.cookie(), request.offset(), errno, message));
            }
        } finally {
            owner.completed(request);
        }
    }

    private Object success(BlockRequest request, ByteBuf data, Extents extents) {
        long cookie = request.cookie();
        switch (request.op()) {
            case READ:
                if (data == null || data.readableBytes() != request.length()) {
                    // a simple reply promises exactly length bytes: never send a wrong amount
                    LOG.warn("export '{}' answered {} with {} bytes", session.name(), request,
                            data == null ? "no" : data.readableBytes());
                    release(data);
                    return error(cookie, request.offset(), Errno.EIO, "internal error: wrong read length");
                }
                return structured
                        ? new NbdOffsetDataChunk(NbdConstants.REPLY_FLAG_DONE, cookie, request.offset(), data)
                                .requestOffset(request.offset())
                        : new NbdSimpleReply(0, cookie, data);
            case BLOCK_STATUS:
                release(data);
                if (extents == null) {
                    LOG.warn("export '{}' answered {} without extents", session.name(), request);
                    return error(cookie, request.offset(), Errno.EIO, "internal error: no extents");
                }
                return new NbdBlockStatusChunk(NbdConstants.REPLY_FLAG_DONE, cookie, session.metaContextId(),
                        fit(extents, request.length(), request.hasFlag(BlockFlags.REQ_ONE)), extended)
                        .requestOffset(request.offset());
            default:
                release(data);
                return extended ? new NbdNoneChunk(cookie).requestOffset(request.offset())
                        : new NbdSimpleReply(0, cookie);
        }
    }

    private Object error(long cookie, long offset, int errno, String message) {
        int code = wireErrno(errno);
        if (!structured) {
            return new NbdSimpleReply(code, cookie);
        }
        String text = message == null ? Errno.name(code)
                : message.length() > MAX_MESSAGE_CHARS ? message.substring(0, MAX_MESSAGE_CHARS) : message;
        return new NbdErrorChunk(NbdConstants.REPLY_FLAG_DONE, cookie, code, text).requestOffset(offset);
    }

    private void write(Object reply) {
        ctx.writeAndFlush(reply, ctx.voidPromise());
    }

    /**
     * Extents as the spec wants them for a request of {@code requested} bytes: no zero lengths; with REQ_ONE exactly
     * one, not longer than the request; otherwise none starting at or past the requested end. The last one is cut at
     * the requested end (always valid). Returns {@code extents} itself when nothing needs changing.
     */
    static Extents fit(Extents extents, int requested, boolean reqOne) {
        long want = Integer.toUnsignedLong(requested);
        int n = extents.count();
        int keep = 0;
        long sum = 0;
        boolean zeroes = false;
        for (int i = 0; i < n && sum < want; i++) {
            long len = Integer.toUnsignedLong(extents.length(i));
            if (len == 0) {
                zeroes = true;
                continue;
            }
            keep++;
            sum += len;
            if (reqOne) {
                break;
            }
        }
        if (keep == 0) {
            return Extents.allData(requested);
        }
        if (!zeroes && keep == n && sum <= want) {
            return extents;
        }
        int[] lengths = new int[keep];
        int[] flags = new int[keep];
        long covered = 0;
        for (int i = 0, j = 0; i < n && j < keep; i++) {
            long len = Integer.toUnsignedLong(extents.length(i));
            if (len == 0) {
                continue;
            }
            len = Math.min(len, want - covered);
            lengths[j] = (int) len;
            flags[j] = extents.flags(i);
            covered += len;
            j++;
        }
        return new Extents(lengths, flags);
    }

    /** Only the error values the spec defines go on the wire; anything else becomes EIO. */
    static int wireErrno(int errno) {
        switch (errno) {
            case Errno.EPERM:
            case Errno.EIO:
            case Errno.ENOMEM:
            case Errno.EINVAL:
            case Errno.ENOSPC:
            case Errno.EOVERFLOW:
            case Errno.ENOTSUP:
            case Errno.ESHUTDOWN:
                return errno;
            default:
                return Errno.EIO;
        }
    }

    private static void release(ByteBuf data) {
        if (data != null) {
            data.release();
        }
    }
}
