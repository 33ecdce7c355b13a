package io.mpathnbd.core.buffer;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;

/**
 * Gathers one payload (WRITE data, READ data) as it arrives, without waiting for all of it to sit in one buffer.
 * A decoder that waited would make {@code ByteToMessageDecoder} merge every receive buffer into its cumulation: a
 * copy of each payload byte, and a cumulation that grows (and is copied again) as long as slices of it are held.
 *
 * <p>A payload that arrives whole in one receive buffer becomes a retained slice of it. One that spans several
 * becomes a composite of retained slices; pieces smaller than {@link #COPY_BELOW} are copied into a buffer of their
 * own instead, so a sender trickling bytes cannot make a composite of millions of tiny slices, and so are small pieces
 * of a mostly empty receive buffer ({@link #SPARSE_FACTOR}). Shared by the NBD and iSCSI decoders. Confined to one
 * decoder, so one event loop.
 */
public final class PayloadCollector {
    /** Pieces of a payload spanning several reads that are shorter than this are copied rather than sliced. */
    public static final int COPY_BELOW = 16 * 1024;
    /** Largest buffer allocated for copied pieces. */
    private static final int COPY_BUFFER = 64 * 1024;
    /**
     * A piece of at most {@link #COPY_BUFFER} bytes is copied when its receive buffer is mostly empty (it holds less
     * than 1/SPARSE_FACTOR of its capacity): a slice pins the whole buffer for as long as the request lives (it may be
     * held while no path is usable), and such a buffer would pin far more memory than the data that came in it.
     */
    public static final int SPARSE_FACTOR = 16;

    private int remaining;
    private ByteBuf whole;
    private CompositeByteBuf parts;
    private ByteBuf tail;

    /** Starts a payload of {@code length} (positive) bytes. */
    public void start(int length) {
        remaining = length;
    }

    /** Takes as much of the payload as {@code in} holds; true when the payload is complete. */
    public boolean take(ByteBufAllocator alloc, ByteBuf in) {
        int n = Math.min(remaining, in.readableBytes());
        if (n == 0) {
            return remaining == 0;
        }
        boolean sparse = n <= COPY_BUFFER && in.writerIndex() < in.capacity() / SPARSE_FACTOR;
        if (n == remaining && parts == null && tail == null && !sparse) {
            whole = in.readRetainedSlice(n);
            remaining = 0;
            return true;
        }
        if (n < COPY_BELOW || sparse) {
            if (tail != null && tail.writableBytes() < n) {
                moveTail(alloc);
            }
            if (tail == null) {
                tail = alloc.directBuffer(Math.max(n, Math.min(remaining, COPY_BUFFER)));
            }
            tail.writeBytes(in, n);
        } else {
            moveTail(alloc);
            parts(alloc).addComponent(true, in.readRetainedSlice(n));
        }
        remaining -= n;
        return remaining == 0;
    }

    /** The complete payload; the caller owns it and this collector is empty again. */
    public ByteBuf finish(ByteBufAllocator alloc) {
        ByteBuf out = whole;
        whole = null;
        if (out != null) {
            return out;
        }
        if (parts == null) {
            out = tail;
            tail = null;
            return out;
        }
        moveTail(alloc);
        out = parts;
        parts = null;
        return out;
    }

    /** Drops whatever was gathered (the stream failed or the handler was removed). */
    public void discard() {
        remaining = 0;
        if (whole != null) {
            whole.release();
            whole = null;
        }
        if (tail != null) {
            tail.release();
            tail = null;
        }
        if (parts != null) {
            parts.release();
            parts = null;
        }
    }

    private void moveTail(ByteBufAllocator alloc) {
        if (tail != null) {
            parts(alloc).addComponent(true, tail);
            tail = null;
        }
    }

    private CompositeByteBuf parts(ByteBufAllocator alloc) {
        if (parts == null) {
            // components stay few: one per receive buffer of at least COPY_BELOW bytes, or per copy buffer
            parts = alloc.compositeDirectBuffer(Integer.MAX_VALUE);
        }
        return parts;
    }
}
