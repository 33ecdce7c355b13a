package io.mpathnbd.core.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.mpathnbd.core.backend.BackendCallback;
import io.mpathnbd.core.backend.BackendSession;
import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.request.Extents;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Submits one {@link BlockRequest} straight to a {@link BackendSession} (no export in between) and waits for its
 * {@link BackendCallback}, for the backend driver tests.
 */
public final class BackendCalls {
    private BackendCalls() {
    }

    /** Submits without waiting; {@link Recorder#await()} waits up to {@code wait} for the answer. */
    public static Recorder submit(BackendSession s, BlockOp op, int flags, long offset, int length, ByteBuf payload,
            Duration wait) {
        Recorder r = new Recorder(wait);
        s.submit(new BlockRequest(op, flags, offset, length, 0, payload, null), r);
        return r;
    }

    public static BackendOutcome run(BackendSession s, BlockOp op, int flags, long offset, int length, Duration wait) {
        return submit(s, op, flags, offset, length, null, wait).await();
    }

    /** A WRITE of {@code data}; checks the backend left the request's own payload reference alone, then drops it. */
    public static BackendOutcome write(BackendSession s, int flags, long offset, byte[] data, Duration wait) {
        ByteBuf payload = PooledByteBufAllocator.DEFAULT.directBuffer(data.length).writeBytes(data);
        try {
            BackendOutcome o = submit(s, BlockOp.WRITE, flags, offset, data.length, payload, wait).await();
            assertEquals(1, payload.refCnt(), "the backend must not consume or keep the request's payload reference");
            assertEquals(data.length, payload.readableBytes(), "the backend must not move the payload's indexes");
            return o;
        } finally {
            payload.release();
        }
    }

    /** A callback that records the outcome of one request. */
    public static final class Recorder implements BackendCallback {
        private final CompletableFuture<BackendOutcome> outcome = new CompletableFuture<>();
        // separate from the future, which a timed-out await also completes: only a real second call is "twice"
        private final AtomicBoolean called = new AtomicBoolean();
        private final Duration wait;

        Recorder(Duration wait) {
            this.wait = wait;
        }

        @Override
        public void succeeded(ByteBuf data, Extents extents) {
            if (!called.compareAndSet(false, true)) {
                release(data);
                throw new AssertionError("callback called twice");
            }
            if (!outcome.complete(new BackendOutcome(true, data, extents, null))) {
                release(data); // after await gave up: nobody else will release it
            }
        }

        @Override
        public void failed(Failure failure) {
            if (!called.compareAndSet(false, true)) {
                throw new AssertionError("callback called twice");
            }
            outcome.complete(new BackendOutcome(false, null, null, failure));
        }

        /** The outcome; fails the test when none arrives within the wait. */
        public BackendOutcome await() {
            try {
                return outcome.get(wait.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                if (outcome.completeExceptionally(e)) {
                    return fail("no answer within " + wait, e);
                }
                return outcome.join(); // the answer arrived just now
            } catch (ExecutionException e) {
                return fail("no answer within " + wait + " (an earlier await gave up)", e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return fail("interrupted waiting for the answer", e);
            }
        }

        private static void release(ByteBuf data) {
            if (data != null) {
                data.release();
            }
        }
    }
}
