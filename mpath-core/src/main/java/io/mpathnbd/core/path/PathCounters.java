package io.mpathnbd.core.path;

import io.mpathnbd.core.request.BlockOp;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A path's request accounting: its load (what the iopolicies weigh), totals (status and metrics), when a request last
 * completed (the health probe's proof of life), and whether writes completed here since the last FLUSH. Atomics only:
 * the hot path never locks.
 */
final class PathCounters {
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong inFlightBytes = new AtomicLong();
    private final LongAdder requests = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder bytesRead = new LongAdder();
    private final LongAdder bytesWritten = new LongAdder();
    /** Data-modifying requests completed on this path (not FUA); compared with {@link #flushedMark}. */
    private final LongAdder modifications = new LongAdder();
    private final AtomicLong flushedMark = new AtomicLong();
    private volatile long lastCompletionNanos = System.nanoTime();

    int inFlight() {
        return inFlight.get();
    }

    long inFlightBytes() {
        return inFlightBytes.get();
    }

    long requests() {
        return requests.sum();
    }

    long errors() {
        return errors.sum();
    }

    long bytesRead() {
        return bytesRead.sum();
    }

    long bytesWritten() {
        return bytesWritten.sum();
    }

    long lastCompletionNanos() {
        return lastCompletionNanos;
    }

    /** A new session starts with a clean bill of health. */
    void resetLastCompletion(long nowNanos) {
        lastCompletionNanos = nowNanos;
    }

    void begin(int bytes) {
        inFlight.incrementAndGet();
        if (bytes != 0) {
            inFlightBytes.addAndGet(bytes);
        }
    }

    void end(BlockOp op, int bytes, boolean failed, long nowNanos) {
        inFlight.decrementAndGet();
        if (bytes != 0) {
            inFlightBytes.addAndGet(-bytes);
        }
        requests.increment();
        if (failed) {
            errors.increment();
        } else if (op == BlockOp.READ) {
            bytesRead.add(bytes);
        } else if (op == BlockOp.WRITE) {
            bytesWritten.add(bytes);
        }
        lastCompletionNanos = nowNanos;
    }

    void noteModification() {
        modifications.increment();
    }

    long modificationMark() {
        return modifications.sum();
    }

    void flushedUpTo(long mark) {
        flushedMark.accumulateAndGet(mark, Math::max);
    }

    boolean hasUnflushedWrites() {
        return modifications.sum() > flushedMark.get();
    }
}
