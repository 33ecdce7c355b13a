package io.mpathnbd.core.policy;

import static io.mpathnbd.core.support.TestRig.fastConfig;
import static io.mpathnbd.core.support.TestRig.path;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.export.Export;
import io.mpathnbd.core.backend.AccessState;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.support.TestRig;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The selection rules of each iopolicy, on real paths (live file paths with configured access states and
 * distances). Load is simulated through the paths' own in-flight accounting.
 */
class IoPoliciesTest {
    private static final BlockRequest READ_4K = new BlockRequest(BlockOp.READ, 0, 0, 4096, 1, null, null);

    @TempDir
    java.nio.file.Path dir;

    private TestRig rig;
    private java.nio.file.Path img;

    @BeforeEach
    void setUp() throws Exception {
        rig = new TestRig(dir);
        img = rig.image("disk.img", 1 << 20);
    }

    @AfterEach
    void tearDown() throws Exception {
        rig.close();
    }

    /** The export the last {@link #paths} call made. */
    private Export export;

    /** Live paths named p0.. with the given access states and distances. */
    private Path[] paths(AccessState[] access, int[] distance) throws Exception {
        Export e = rig.export(fastConfig("e" + System.nanoTime()));
        export = e;
        for (int i = 0; i < access.length; i++) {
            e.addPath(path("p" + i, distance[i], access[i]), rig.fileDriver(img));
        }
        return TestRig.startLive(e).paths().toArray(new Path[0]);
    }

    private Path[] optimized(int n) throws Exception {
        AccessState[] a = new AccessState[n];
        java.util.Arrays.fill(a, AccessState.OPTIMIZED);
        return paths(a, new int[n]);
    }

    private static void load(Path p, int requests, int bytes) {
        for (int i = 0; i < requests; i++) {
            p.beginRequest(bytes);
        }
    }

    @Test
    void namesAndUnknownNames() {
        assertEquals(List.of("numa", "round-robin", "queue-depth", "service-time"), IoPolicies.names());
        for (String name : IoPolicies.names()) {
            assertEquals(name, IoPolicies.create(name).name());
        }
        assertEquals("round-robin", IoPolicies.create(" Round-Robin ").name());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IoPolicies.create("rr"));
        assertEquals("unknown iopolicy 'rr' (valid: numa, round-robin, queue-depth, service-time)", e.getMessage());
    }

    @Test
    void noPolicyPicksAPathThatCannotCarryIo() throws Exception {
        Path[] p = paths(new AccessState[] {AccessState.STANDBY, AccessState.UNAVAILABLE, AccessState.OFFLINE,
            AccessState.TRANSITIONING}, new int[] {1, 2, 3, 4});
        for (String name : IoPolicies.names()) {
            assertNull(IoPolicies.create(name).select(READ_4K, p, null), name);
        }
        assertNull(IoPolicies.create("numa").select(READ_4K, new Path[0], null));
        assertNull(IoPolicies.create("round-robin").select(READ_4K, new Path[0], null));
    }

    @Test
    void everyPolicyHonoursTheExclusionAndPrefersOptimized() throws Exception {
        Path[] p = paths(new AccessState[] {AccessState.NON_OPTIMIZED, AccessState.OPTIMIZED,
            AccessState.NON_OPTIMIZED}, new int[] {1, 5, 1});
        for (String name : IoPolicies.names()) {
            IoPolicy policy = IoPolicies.create(name);
            assertSame(p[1], policy.select(READ_4K, p, null), name + " prefers the optimized path");
            Path other = policy.select(READ_4K, p, p[1]);
            assertTrue(other == p[0] || other == p[2], name + " falls back to a non-optimized path");
        }
    }

    @Test
    void numaTakesTheNearestOptimizedThenTheNearestNonOptimized() throws Exception {
        Path[] p = paths(new AccessState[] {AccessState.OPTIMIZED, AccessState.OPTIMIZED,
            AccessState.NON_OPTIMIZED, AccessState.NON_OPTIMIZED}, new int[] {20, 10, 1, 5});
        assertSame(p[1], IoPolicies.create("numa").select(READ_4K, p, null));
        // without optimized paths: the nearest non-optimized
        export.failPath("p0");
        export.failPath("p1");
        Path[] now = export.paths().toArray(new Path[0]);
        assertSame(now[2], IoPolicies.create("numa").select(READ_4K, now, null));
    }

    @Test
    void numaCachesThePathPerThreadUntilThePathsChange() throws Exception {
        Path[] p = optimized(2);
        IoPolicy numa = IoPolicies.create("numa");
        // this thread ends up on p1 (p0 excluded once) and stays there while the snapshot is the same
        assertSame(p[1], numa.select(READ_4K, p, p[0]));
        assertSame(p[1], numa.select(READ_4K, p, null));
        // another thread has its own current path
        Path other = CompletableFuture.supplyAsync(() -> numa.select(READ_4K, p, null)).get(5, TimeUnit.SECONDS);
        assertSame(p[0], other);
        // a new snapshot (the export publishes one on every path change) invalidates the cache
        Path[] fresh = p.clone();
        assertSame(p[0], numa.select(READ_4K, fresh, null));
        // a cached path that stops being usable is not returned
        assertSame(p[1], numa.select(READ_4K, fresh, p[0]));
        export.failPath("p1");
        assertSame(p[0], numa.select(READ_4K, fresh, null));
    }

    @Test
    void roundRobinRotatesOverOptimizedPaths() throws Exception {
        Path[] p = paths(new AccessState[] {AccessState.OPTIMIZED, AccessState.NON_OPTIMIZED, AccessState.OPTIMIZED,
            AccessState.OPTIMIZED}, new int[4]);
        IoPolicy rr = IoPolicies.create("round-robin");
        List<String> seq = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            seq.add(rr.select(READ_4K, p, null).id());
        }
        assertEquals(List.of("p0", "p2", "p3", "p0", "p2", "p3"), seq);
        // with the next one excluded, it skips to the one after
        assertSame(p[2], rr.select(READ_4K, p, p[0]));
    }

    @Test
    void roundRobinUsesTheLastNonOptimizedSeenWhenNoOptimizedIsUsable() throws Exception {
        Path[] p = paths(new AccessState[] {AccessState.NON_OPTIMIZED, AccessState.NON_OPTIMIZED,
            AccessState.NON_OPTIMIZED}, new int[3]);
        IoPolicy rr = IoPolicies.create("round-robin");
        assertSame(p[2], rr.select(READ_4K, p, null)); // the last non-optimized seen from the start
        assertSame(p[1], rr.select(READ_4K, p, null)); // from after p2: p0, p1 -> p1
        assertSame(p[0], rr.select(READ_4K, p, null)); // from after p1: p2, p0 -> p0
    }

    @Test
    void roundRobinStaysOnTheOnlyOptimizedPath() throws Exception {
        Path[] p = paths(new AccessState[] {AccessState.NON_OPTIMIZED, AccessState.OPTIMIZED}, new int[2]);
        IoPolicy rr = IoPolicies.create("round-robin");
        for (int i = 0; i < 3; i++) {
            assertSame(p[1], rr.select(READ_4K, p, null));
        }
    }

    @Test
    void queueDepthTakesTheOptimizedPathWithFewestInFlight() throws Exception {
        Path[] p = paths(new AccessState[] {AccessState.OPTIMIZED, AccessState.OPTIMIZED, AccessState.OPTIMIZED,
            AccessState.NON_OPTIMIZED, AccessState.NON_OPTIMIZED}, new int[5]);
        load(p[0], 3, 0);
        load(p[1], 1, 0);
        load(p[2], 2, 0);
        IoPolicy qd = IoPolicies.create("queue-depth");
        assertSame(p[1], qd.select(READ_4K, p, null));
        assertSame(p[2], qd.select(READ_4K, p, p[1]));
        p[1].endRequest(BlockOp.READ, 0, false, System.nanoTime());
        assertEquals(0, p[1].inFlight());
        assertSame(p[1], qd.select(READ_4K, p, null));
        // optimized ones all gone: the least loaded non-optimized, though busier than the optimized were
        load(p[3], 5, 0);
        load(p[4], 4, 0);
        export.failPath("p0");
        export.failPath("p1");
        export.failPath("p2");
        assertSame(p[4], qd.select(READ_4K, p, null));
    }

    @Test
    void serviceTimeWeighsBytesInFlightByRelativeThroughput() throws Exception {
        Path[] p = optimized(2);
        IoPolicy st = IoPolicies.create("service-time");
        load(p[0], 1, 1 << 20);
        load(p[1], 1, 300 << 10);
        assertSame(p[1], st.select(READ_4K, p, null));
        p[0].relativeThroughput(4); // (1 MiB + 4 KiB) / 4 < 304 KiB / 1
        assertSame(p[0], st.select(READ_4K, p, null));
        assertEquals(1 << 20, p[0].inFlightBytes());
        // equal cost: the faster path
        Path[] q = optimized(2);
        q[1].relativeThroughput(2);
        assertSame(q[1], st.select(READ_4K, q, null));
        assertThrows(IllegalArgumentException.class, () -> q[0].relativeThroughput(0));
    }

    @Test
    void selectionAllocatesNothing() throws Exception {
        Path[] p = optimized(3);
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (String name : IoPolicies.names()) {
            IoPolicy policy = IoPolicies.create(name);
            for (int i = 0; i < 20_000; i++) {
                policy.select(READ_4K, p, (i & 7) == 0 ? p[0] : null); // warm up, and make the thread's cache
            }
            long tid = Thread.currentThread().getId();
            long before = mx.getThreadAllocatedBytes(tid);
            for (int i = 0; i < 100_000; i++) {
                policy.select(READ_4K, p, (i & 7) == 0 ? p[0] : null);
            }
            long allocated = mx.getThreadAllocatedBytes(tid) - before;
            // the measurement itself may allocate a little; 100k selections allocating would show as megabytes
            assertTrue(allocated < 4096, name + " allocated " + allocated + " bytes in 100k selections");
        }
    }
}
