package io.mpathnbd.testing.leak;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Proves the leak check can fail: buffers are leaked on purpose, the detector must record them, and the records
 * are forgotten afterwards so this class itself passes the class-level check of {@link LeakDetectionExtension}.
 */
class LeakDetectionTest {

    private final String marker = "deliberate leak " + UUID.randomUUID();

    @AfterEach
    void forgetDeliberateLeaks() {
        LeakDetection.forget(this::isDeliberate);
    }

    @Test
    void runsAtParanoidLevel() {
        assertEquals(ResourceLeakDetector.Level.PARANOID, ResourceLeakDetector.getLevel());
    }

    @Test
    void detectionCatchesUpWithTheCollector() {
        LeakDetection.detect();

        assertTrue(LeakDetection.lastCanarySeen(), "the canary leak was not reported within the time budget");
    }

    @Test
    void recordsALeakedPooledBuffer() {
        leak(PooledByteBufAllocator.DEFAULT.directBuffer(64));

        List<LeakRecord> found = LeakDetection.detect();

        assertTrue(found.stream().anyMatch(this::isDeliberate), () -> "leak not recorded; recorded: " + found);
    }

    @Test
    void recordsALeakedSliceWhoseParentWasReleased() {
        leakSliceOfReleasedParent();

        List<LeakRecord> found = LeakDetection.detect();

        assertTrue(found.stream().anyMatch(this::isDeliberate), () -> "leak not recorded; recorded: " + found);
    }

    @Test
    void assertNoLeaksFailsWithTheRecordsAndThenForgetsThem() {
        leak(ByteBufAllocator.DEFAULT.directBuffer(8));

        AssertionError failure = assertThrows(AssertionError.class, () -> LeakDetection.assertNoLeaks("this test"));

        assertTrue(failure.getMessage().contains(marker), failure::getMessage);
        assertTrue(LeakDetection.leaks().stream().noneMatch(this::isDeliberate), "failing leaks must be forgotten");
    }

    @Test
    void releasedBuffersAreNotLeaks() {
        allocateAndRelease();

        assertTrue(LeakDetection.detect().stream().noneMatch(this::isDeliberate));
    }

    /** The buffer is unreachable once this returns, so a wrongly reported leak would show up in detect(). */
    private void allocateAndRelease() {
        ByteBuf buf = ByteBufAllocator.DEFAULT.directBuffer(32);
        buf.touch(marker);
        buf.release();
    }

    /** A forwarded payload's case: the slice keeps its parent alive, so both leak, and both carry the marker. */
    private void leakSliceOfReleasedParent() {
        ByteBuf whole = ByteBufAllocator.DEFAULT.heapBuffer(128).writeZero(128).touch(marker);
        leak(whole.retainedSlice(0, 16));
        whole.release();
    }

    /** Touches the buffer with this test's marker and drops the last reference without releasing it. */
    private void leak(ByteBuf buf) {
        buf.touch(marker);
    }

    private boolean isDeliberate(LeakRecord leak) {
        return leak.records().contains(marker);
    }
}
