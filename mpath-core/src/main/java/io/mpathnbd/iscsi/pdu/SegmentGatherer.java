package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;

/**
 * Gathers a data segment that spans several socket reads, as it arrives. Large pieces are kept as retained slices of
 * the receive buffers (no copy); pieces under {@link #COPY_BELOW} bytes are copied into a buffer of our own, so a
 * target that trickles bytes cannot build a composite of thousands of components or pin many receive buffers for a
 * few bytes each. A segment then has at most two components per {@code COPY_BELOW} bytes. Not thread-safe.
 */
final class SegmentGatherer {
    static final int COPY_BELOW = 16 * 1024;

    private ByteBuf first;
    private CompositeByteBuf composite;
    /** Copy target for small pieces, not yet added: a component's length is fixed when it is added. */
    private ByteBuf tail;

    /**
     * Moves {@code n} readable bytes of {@code in} into the segment; {@code remaining} is how many bytes of the
     * segment are still missing (including these), which bounds a copy buffer.
     */
    void add(ByteBuf in, int n, int remaining, ByteBufAllocator alloc) {
        if (n >= COPY_BELOW) {
            addTail();
            append(in.readRetainedSlice(n), alloc);
            return;
        }
        if (tail == null || tail.writableBytes() < n) {
            addTail();
            int capacity = Math.min(remaining, 4 * COPY_BELOW);
            tail = alloc.ioBuffer(capacity, capacity);
        }
        tail.writeBytes(in, n);
    }

    /** The gathered segment; ownership passes to the caller. */
    ByteBuf take() {
        addTail();
        ByteBuf out = composite != null ? composite : first;
        composite = null;
        first = null;
        return out;
    }

    void release() {
        if (tail != null) {
            tail.release();
            tail = null;
        }
        ByteBuf b = take();
        if (b != null) {
            b.release();
        }
    }

    private void addTail() {
        if (tail != null) {
            ByteBuf t = tail;
            tail = null;
            append(t, null);
        }
    }

    private void append(ByteBuf piece, ByteBufAllocator alloc) {
        if (composite != null) {
            composite.addComponent(true, piece);
        } else if (first == null) {
            first = piece;
        } else {
            // no consolidation: the composite never copies as long as it may hold every component
            composite = (alloc != null ? alloc : first.alloc()).compositeBuffer(Integer.MAX_VALUE);
            composite.addComponent(true, first);
            composite.addComponent(true, piece);
            first = null;
        }
    }
}
