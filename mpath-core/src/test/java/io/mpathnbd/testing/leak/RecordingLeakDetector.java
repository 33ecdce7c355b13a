package io.mpathnbd.testing.leak;

import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakTracker;

import java.util.concurrent.atomic.LongAdder;

/**
 * A Netty leak detector that hands every leak to {@link LeakDetection} instead of only logging it, so a test
 * run can fail on it.
 */
final class RecordingLeakDetector<T> extends ResourceLeakDetector<T> {

    private final LongAdder tracked = new LongAdder();

    RecordingLeakDetector(Class<?> resourceType, int samplingInterval) {
        super(resourceType, samplingInterval);
    }

    @Override
    public ResourceLeakTracker<T> track(T obj) {
        ResourceLeakTracker<T> tracker = super.track(obj);
        if (tracker != null) {
            tracked.increment();
        }
        return tracker;
    }

    /** How many resources this detector has started tracking; proves the detector is the one in use. */
    long trackedCount() {
        return tracked.sum();
    }

    /** The default only reports when the error log level is on; tests must see leaks whatever the log setup. */
    @Override
    protected boolean needReport() {
        return true;
    }

    @Override
    protected void reportTracedLeak(String resourceType, String records) {
        LeakDetection.record(new LeakRecord(resourceType, records));
    }

    @Override
    protected void reportUntracedLeak(String resourceType) {
        LeakDetection.record(new LeakRecord(resourceType, ""));
    }
}
