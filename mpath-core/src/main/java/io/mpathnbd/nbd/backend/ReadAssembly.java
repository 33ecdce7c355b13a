package io.mpathnbd.nbd.backend;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Arrays;

/**
 * The pieces of a structured READ reply that came in more than one chunk: data slices and holes, each at its offset
 * relative to the request. {@link #finish} checks that they tile the range exactly (no gap, no overlap, as the spec
 * requires) and joins them into one buffer without copying data; holes become slices of a shared zero buffer.
 */
final class ReadAssembly {
    /** Read-only zeroes shared by every hole; unreleasable, so a composite holding slices of it can release freely. */
    private static final int ZERO_CHUNK = 1024 * 1024;
    private static final ByteBuf ZEROES =
            Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(new byte[ZERO_CHUNK]).asReadOnly());

    private int[] offsets = new int[4];
    private int[] lengths = new int[4];
    private ByteBuf[] buffers = new ByteBuf[4];
    private int count;
    private long covered;

    /**
     * Adds a piece; {@code data} null means a hole. Takes ownership of {@code data}. Returns false (piece released)
     * when the pieces would cover more than {@code total} bytes, which means an overlap.
     */
    boolean add(int offset, int length, ByteBuf data, int total) {
        if (covered + length > total) {
            if (data != null) {
                data.release();
            }
            return false;
        }
        if (count == offsets.length) {
            int n = count * 2;
            offsets = Arrays.copyOf(offsets, n);
            lengths = Arrays.copyOf(lengths, n);
            buffers = Arrays.copyOf(buffers, n);
        }
        offsets[count] = offset;
        lengths[count] = length;
        buffers[count] = data;
        count++;
        covered += length;
        return true;
    }

    /**
     * Joins the pieces into one buffer of {@code total} bytes, or returns null (everything released) when they do not
     * tile the range. Either way this assembly no longer owns anything afterwards.
     */
    ByteBuf finish(ByteBufAllocator alloc, int total) {
        sortByOffset();
        int expected = 0;
        for (int i = 0; i < count; i++) {
            if (offsets[i] != expected) {
                release();
                return null;
            }
            expected += lengths[i];
        }
        if (expected != total) {
            release();
            return null;
        }
        CompositeByteBuf out = alloc.compositeBuffer(count + total / ZERO_CHUNK + 1);
        for (int i = 0; i < count; i++) {
            ByteBuf b = buffers[i];
            buffers[i] = null;
            if (b != null) {
                out.addComponent(true, b);
            } else {
                for (int left = lengths[i]; left > 0; ) {
                    int n = Math.min(left, ZERO_CHUNK);
                    out.addComponent(true, ZEROES.slice(0, n));
                    left -= n;
                }
            }
        }
        count = 0;
        return out;
    }

    /** Releases every data piece (on error or when the connection goes away). */
    void release() {
        for (int i = 0; i < count; i++) {
            if (buffers[i] != null) {
                buffers[i].release();
                buffers[i] = null;
            }
        }
        count = 0;
    }

    /** Insertion sort: servers send few chunks per read, usually in order already. */
    private void sortByOffset() {
        for (int i = 1; i < count; i++) {
            int o = offsets[i];
            int l = lengths[i];
            ByteBuf b = buffers[i];
            int j = i - 1;
            while (j >= 0 && offsets[j] > o) {
                offsets[j + 1] = offsets[j];
                lengths[j + 1] = lengths[j];
                buffers[j + 1] = buffers[j];
                j--;
            }
            offsets[j + 1] = o;
            lengths[j + 1] = l;
            buffers[j + 1] = b;
        }
    }
}
