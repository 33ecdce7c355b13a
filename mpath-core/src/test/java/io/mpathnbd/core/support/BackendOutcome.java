package io.mpathnbd.core.support;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.request.Extents;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;

/**
 * How one request submitted straight to a backend session ended: exactly one of data/extents-success or failure. On
 * success the caller owns {@code data} (READ only) and must release it, or let {@link #bytes()} do so.
 */
public record BackendOutcome(boolean ok, ByteBuf data, Extents extents, Failure failure) {
    public BackendOutcome assertOk() {
        if (!ok) {
            fail("request failed: " + failure);
        }
        return this;
    }

    public Failure assertFailed() {
        if (ok) {
            if (data != null) {
                data.release();
            }
            fail("request succeeded, a failure was expected");
        }
        return failure;
    }

    /** The READ data as an array; releases the buffer. */
    public byte[] bytes() {
        assertOk();
        assertNotNull(data, "READ without data");
        try {
            return ByteBufUtil.getBytes(data);
        } finally {
            // the one reference the callee owns (slices may share the parent's count, so refCnt can be higher)
            data.release();
        }
    }
}
