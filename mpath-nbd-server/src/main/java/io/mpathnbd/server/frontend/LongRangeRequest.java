package io.mpathnbd.server.frontend;

import io.mpathnbd.core.export.Export;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.core.request.Extents;
import io.mpathnbd.core.request.ReplySink;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.RejectedExecutionException;

/**
 * A WRITE_ZEROES or TRIM from an extended-header client whose 64-bit length is more than the core carries in one
 * request (an int): sent to the export as consecutive pieces of at most {@code piece} bytes, one after the other, and
 * answered once, when the last piece succeeded or at the first that failed (whose error the client gets; the spec
 * leaves the range's content unspecified after a failed zero or trim). One piece at a time, so a client's 8 TiB
 * zero request holds no more of the export than one ordinary request. Pieces are submitted on the connection's
 * event loop, as every other request is.
 */
final class LongRangeRequest implements ReplySink {
    private final Export export;
    private final Channel channel;
    private final EventExecutor loop;
    private final ReplySink replies;
    /** What the client is answered for: its cookie, offset and operation (its length is not needed for that). */
    private final BlockRequest whole;
    private final int piece;
    private long next;
    private long remaining;

    LongRangeRequest(Export export, Channel channel, ReplySink replies, BlockOp op, int flags, long offset,
            long length, long cookie, int piece) {
        if (op != BlockOp.WRITE_ZEROES && op != BlockOp.TRIM) {
            throw new IllegalArgumentException("only WRITE_ZEROES and TRIM carry no payload to split: " + op);
        }
        this.export = export;
        this.channel = channel;
        this.loop = channel.eventLoop();
        this.replies = replies;
        this.whole = new BlockRequest(op, flags, offset, 0, cookie, null, replies);
        this.piece = piece;
        this.next = offset;
        this.remaining = length;
    }

    /** The request the client's reply is for; the {@link ReplySink} it was built with answers it once. */
    BlockRequest whole() {
        return whole;
    }

    /** Sends the first piece (event loop). */
    void start() {
        submitNext();
    }

    @Override
    public void succeeded(BlockRequest part, ByteBuf data, Extents extents) {
        if (data != null) {
            data.release();
        }
        onLoop(() -> {
            next += part.length();
            remaining -= part.length();
            if (remaining == 0) {
                replies.succeeded(whole, null, null);
            } else if (!channel.isActive()) {
                // nobody would read the answer: the rest of a possibly huge range is not worth doing
                replies.failed(whole, Errno.EIO, "client gone");
            } else {
                submitNext();
            }
        }, Errno.ESHUTDOWN);
    }

    @Override
    public void failed(BlockRequest part, int errno, String message) {
        onLoop(() -> replies.failed(whole, errno, message), errno);
    }

    private void submitNext() {
        int len = (int) Math.min(remaining, piece);
        BlockRequest part = new BlockRequest(whole.op(), whole.flags(), next, len, whole.cookie(), null, this);
        try {
            export.submit(part);
        } catch (RuntimeException e) {
            // a bug in the core: the piece never entered it
            replies.failed(whole, Errno.EIO, "internal error");
        }
    }

    private void onLoop(Runnable step, int errnoIfGone) {
        if (loop.inEventLoop()) {
            step.run();
            return;
        }
        try {
            loop.execute(step);
        } catch (RejectedExecutionException e) {
            // the connection's loop is gone: the ReplyWriter drops what it cannot send, but the request still ends
            replies.failed(whole, errnoIfGone, "server shutting down");
        }
    }
}
