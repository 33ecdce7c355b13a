package io.mpathnbd.iscsi.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;

/**
 * Gathers the Data-In payload of one read without copying: the first segment is kept as a retained slice, later
 * ones join a composite buffer of retained slices. The caller takes the result or releases what was gathered.
 */
final class ReadAssembly {
    private ByteBuf single;
    private CompositeByteBuf composite;

    /** Adds a retained slice of {@code segment} (the caller keeps its own reference). */
    void add(ByteBuf segment, ByteBufAllocator alloc) {
        if (!segment.isReadable()) {
            return;
        }
        ByteBuf slice = segment.retainedSlice();
        if (composite != null) {
            composite.addComponent(true, slice);
        } else if (single == null) {
            single = slice;
        } else {
            // no consolidation: a composite never copies its components as long as it may hold them all
            composite = alloc.compositeBuffer(Integer.MAX_VALUE);
            composite.addComponent(true, single);
            composite.addComponent(true, slice);
            single = null;
        }
    }

    /** The gathered bytes (null if none); ownership passes to the caller. */
    ByteBuf take() {
        ByteBuf out = composite != null ? composite : single;
        composite = null;
        single = null;
        return out;
    }

    void release() {
        ByteBuf b = take();
        if (b != null) {
            b.release();
        }
    }
}
