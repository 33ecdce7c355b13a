package io.mpathnbd.testing.leak;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import io.netty.util.ResourceLeakTracker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * Process-wide leak bookkeeping for tests: installs {@link RecordingLeakDetector} for every Netty resource type at
 * PARANOID level, collects the leaks it reports, and forces pending leaks to be reported on demand.
 *
 * <p>Netty reports a leak only when, after the leaked resource was garbage collected, another resource of the same
 * type gets tracked. {@link #detect()} therefore runs the collector and tracks probe objects until a canary dropped
 * on purpose comes back as a leak: by then whatever was unreachable before the canary has been reported as well.
 */
public final class LeakDetection {

    private static final Duration DETECT_BUDGET = Duration.ofSeconds(2);
    private static final int ROUNDS_AFTER_CANARY = 3;
    private static final String CANARY_HINT = "mpath-nbd leak-detection canary #";

    private static final Queue<LeakRecord> LEAKS = new ConcurrentLinkedQueue<>();
    private static final Queue<String> CANARIES_SEEN = new ConcurrentLinkedQueue<>();
    private static final List<RecordingLeakDetector<?>> DETECTORS = new CopyOnWriteArrayList<>();
    private static final AtomicLong CANARY_COUNT = new AtomicLong();
    private static volatile RecordingLeakDetector<ByteBuf> bufferDetector;
    private static volatile boolean lastCanarySeen;

    static {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new RecordingFactory());
        verifyInstalled();
    }

    private LeakDetection() {
    }

    /**
     * Makes sure the recording detector is installed; the work happens once, in the static initialiser, which must
     * run before Netty's buffer classes are initialised.
     */
    public static void install() {
        if (bufferDetector == null) {
            throw new IllegalStateException("leak detector for ByteBuf missing");
        }
    }

    static void record(LeakRecord leak) {
        if (leak.records().contains(CANARY_HINT)) {
            CANARIES_SEEN.add(leak.records());
        } else {
            LEAKS.add(leak);
        }
    }

    /**
     * Forces leaks of resources that are already unreachable to be reported (within about two seconds) and
     * returns every leak recorded so far, without forgetting them.
     */
    public static List<LeakRecord> detect() {
        // a test that left its thread interrupted must not turn the pauses below into a busy loop
        boolean interrupted = Thread.interrupted();
        try {
            String canary = CANARY_HINT + CANARY_COUNT.incrementAndGet() + ";";
            dropCanary(canary);
            long deadline = System.nanoTime() + DETECT_BUDGET.toNanos();
            int roundsAfterCanary = -1;
            while (System.nanoTime() - deadline < 0) {
                System.gc();
                pollAll();
                if (roundsAfterCanary < 0 && CANARIES_SEEN.removeIf(records -> records.contains(canary))) {
                    roundsAfterCanary = 0;
                }
                // one collection's references reach the queue one by one: give stragglers a few more rounds
                if (roundsAfterCanary >= 0 && ++roundsAfterCanary > ROUNDS_AFTER_CANARY) {
                    break;
                }
                pause();
            }
            lastCanarySeen = roundsAfterCanary >= 0;
            return leaks();
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Whether the last {@link #detect()} saw its canary, i.e. ended because detection had caught up. */
    static boolean lastCanarySeen() {
        return lastCanarySeen;
    }

    /** Every leak recorded and not yet forgotten. */
    public static List<LeakRecord> leaks() {
        return new ArrayList<>(LEAKS);
    }

    /** Forgets the recorded leaks that match; returns how many were forgotten. */
    public static int forget(Predicate<LeakRecord> which) {
        int before = LEAKS.size();
        LEAKS.removeIf(which);
        return before - LEAKS.size();
    }

    /**
     * Forces detection and fails with every recorded leak if there is any; the failing leaks are forgotten so one
     * leak fails one test class, not every class after it.
     */
    public static void assertNoLeaks(String where) {
        List<LeakRecord> found = detect();
        if (found.isEmpty()) {
            return;
        }
        LEAKS.removeAll(found);
        StringBuilder message = new StringBuilder()
                .append(found.size()).append(" Netty resource leak(s) detected after ").append(where)
                .append(". A leak shows up once the resource is garbage collected, so it may come from an earlier")
                .append(" test; the records tell where it was created and last touched.");
        for (LeakRecord leak : found) {
            message.append("\n\n").append(leak);
        }
        throw new AssertionError(message.toString());
    }

    private static void dropCanary(String hint) {
        // a heap buffer tracked by hand: collected and reported like a leaked buffer, without losing pooled memory
        ByteBuf canary = Unpooled.wrappedBuffer(new byte[1]);
        ResourceLeakTracker<ByteBuf> tracker = bufferDetector.track(canary);
        if (tracker != null) {
            tracker.record(hint);
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static void pollAll() {
        // tracking anything makes a PARANOID detector report what the collector has queued for it
        for (RecordingLeakDetector detector : DETECTORS) {
            Object probe = new Object();
            ResourceLeakTracker tracker = detector.track(probe);
            if (tracker != null) {
                tracker.close(probe);
            }
        }
    }

    private static void verifyInstalled() {
        RecordingLeakDetector<ByteBuf> before = bufferDetector;
        long trackedBefore = before == null ? 0 : before.trackedCount();
        ByteBuf probe = ByteBufAllocator.DEFAULT.directBuffer(1);
        probe.release();
        RecordingLeakDetector<ByteBuf> after = bufferDetector;
        if (after == null || after.trackedCount() == trackedBefore) {
            throw new IllegalStateException("Netty buffers are not tracked by the test leak detector: Netty's buffer"
                    + " classes were initialised before " + LeakDetection.class.getName() + ", or the leak"
                    + " detection level is not PARANOID (it is " + ResourceLeakDetector.getLevel() + ")");
        }
    }

    private static void pause() {
        try {
            Thread.sleep(10);
        } catch (InterruptedException e) {
            // someone wants this thread to stop: the remaining rounds run without pauses, still bounded in time
            Thread.currentThread().interrupt();
        }
    }

    private static final class RecordingFactory extends ResourceLeakDetectorFactory {

        /** Netty's deprecated abstract entry point; nothing of Netty's calls it, but it must be implemented. */
        @Deprecated
        @Override
        public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval,
                                                                   long maxActive) {
            return newResourceLeakDetector(resource, samplingInterval);
        }

        @Override
        public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval) {
            RecordingLeakDetector<T> detector = new RecordingLeakDetector<>(resource, samplingInterval);
            DETECTORS.add(detector);
            if (resource == ByteBuf.class) {
                @SuppressWarnings("unchecked")
                RecordingLeakDetector<ByteBuf> forBuffers = (RecordingLeakDetector<ByteBuf>) detector;
                bufferDetector = forBuffers;
            }
            return detector;
        }
    }
}
