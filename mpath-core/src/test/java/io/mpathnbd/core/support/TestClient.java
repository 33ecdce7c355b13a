package io.mpathnbd.core.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.mpathnbd.core.export.Export;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.request.Extents;
import io.mpathnbd.core.request.ReplySink;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Plays the front end: builds requests (WRITE payloads in pooled direct buffers, like the decoder's slices), submits
 * them and records each outcome. Checks the sink contract on the way: one answer per request, READ data exactly the
 * requested length.
 */
public final class TestClient implements ReplySink {
    private final Export export;
    private final Map<BlockRequest, CompletableFuture<Outcome>> pending = new ConcurrentHashMap<>();
    private final List<ByteBuf> payloads = new CopyOnWriteArrayList<>();
    private final AtomicInteger duplicateAnswers = new AtomicInteger();
    private final AtomicLong cookies = new AtomicLong();

    public TestClient(Export export) {
        this.export = export;
    }

    public CompletableFuture<Outcome> read(long offset, int length) {
        return submit(BlockOp.READ, 0, offset, length, null);
    }

    public CompletableFuture<Outcome> write(long offset, byte[] data) {
        return write(offset, data, 0);
    }

    public CompletableFuture<Outcome> write(long offset, byte[] data, int flags) {
        ByteBuf payload = PooledByteBufAllocator.DEFAULT.directBuffer(data.length);
        payload.writeBytes(data);
        payloads.add(payload);
        return submit(BlockOp.WRITE, flags, offset, data.length, payload);
    }

    public CompletableFuture<Outcome> flush() {
        return submit(BlockOp.FLUSH, 0, 0, 0, null);
    }

    public CompletableFuture<Outcome> submit(BlockOp op, int flags, long offset, int length, ByteBuf payload) {
        BlockRequest r = new BlockRequest(op, flags, offset, length, cookies.incrementAndGet(), payload, this);
        CompletableFuture<Outcome> f = new CompletableFuture<>();
        pending.put(r, f);
        export.submit(r);
        return f;
    }

    @Override
    public void succeeded(BlockRequest request, ByteBuf data, Extents extents) {
        byte[] bytes = null;
        if (data != null) {
            bytes = ByteBufUtil.getBytes(data);
            data.release();
        }
        complete(request, new Outcome(request, true, 0, null, bytes, extents, System.nanoTime(),
                Thread.currentThread().getName()));
    }

    @Override
    public void failed(BlockRequest request, int errno, String message) {
        complete(request, new Outcome(request, false, errno, message, null, null, System.nanoTime(),
                Thread.currentThread().getName()));
    }

    private void complete(BlockRequest request, Outcome outcome) {
        CompletableFuture<Outcome> f = pending.get(request);
        if (f == null || !f.complete(outcome)) {
            duplicateAnswers.incrementAndGet();
        }
    }

    /** Every reply so far came once, for a request this client sent. */
    public void assertNoDuplicateAnswers() {
        assertEquals(0, duplicateAnswers.get(), "requests answered more than once");
    }

    /** Every WRITE payload this client made has been released exactly once by the core. */
    public void assertPayloadsReleased() {
        for (ByteBuf p : payloads) {
            assertEquals(0, p.refCnt(), "a WRITE payload was not released (or released too often)");
        }
    }

    public static Outcome await(CompletableFuture<Outcome> f) {
        return await(f, Duration.ofSeconds(10));
    }

    public static Outcome await(CompletableFuture<Outcome> f, Duration timeout) {
        try {
            return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return fail("request not answered within " + timeout);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    public static Outcome ok(CompletableFuture<Outcome> f) {
        Outcome o = await(f);
        if (!o.ok()) {
            fail(o.request() + " failed: errno " + o.errno() + ": " + o.message());
        }
        return o;
    }
}
