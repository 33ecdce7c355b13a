package io.mpathnbd.core.policy;

import static io.mpathnbd.core.support.TestRig.fastConfig;
import static io.mpathnbd.core.support.TestRig.path;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.BackendDriver;
import io.mpathnbd.core.backend.BackendSession;
import io.mpathnbd.core.backend.EventLoopAffinity;
import io.mpathnbd.core.export.Export;
import io.mpathnbd.core.backend.AccessState;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.support.DelegatingSession;
import io.mpathnbd.core.support.TestRig;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import java.lang.management.ManagementFactory;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Loop affinity in path selection: called from an event loop, the numa policy takes, among equally near paths of
 * the best access state, one whose session runs on that loop.
 */
class LoopAffinityTest {
    private static final BlockRequest READ_4K = new BlockRequest(BlockOp.READ, 0, 0, 4096, 1, null, null);

    @TempDir
    java.nio.file.Path dir;

    private TestRig rig;
    private java.nio.file.Path img;
    private DefaultEventLoopGroup group;
    private EventLoop loopA;
    private EventLoop loopB;

    @BeforeEach
    void setUp() throws Exception {
        rig = new TestRig(dir);
        img = rig.image("disk.img", 1 << 20);
        group = new DefaultEventLoopGroup(2);
        loopA = group.next();
        loopB = group.next();
        assertTrue(loopA != loopB);
    }

    @AfterEach
    void tearDown() throws Exception {
        rig.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    /**
     * A fake, because no real single-loop backend (iSCSI) can run in core unit tests: the file backend's sessions,
     * reporting the given loop as theirs.
     */
    private static final class FakeSingleLoopDriver implements BackendDriver {
        private final BackendDriver real;
        private final EventExecutor loop;

        FakeSingleLoopDriver(BackendDriver real, EventExecutor loop) {
            this.real = real;
            this.loop = loop;
        }

        @Override
        public String displayUri() {
            return real.displayUri();
        }

        @Override
        public CompletableFuture<BackendSession> connect() {
            return real.connect().thenApply(s -> new OnLoop(s, loop));
        }

        @Override
        public void shutdown() {
            real.shutdown();
        }
    }

    private static final class OnLoop extends DelegatingSession implements EventLoopAffinity {
        private final EventExecutor loop;

        OnLoop(BackendSession real, EventExecutor loop) {
            super(real);
            this.loop = loop;
        }

        @Override
        public EventExecutor eventLoop() {
            return loop;
        }
    }

    /** Live paths p0.. whose sessions run on the given loops (null: a plain file session, on no loop). */
    private Path[] paths(EventExecutor[] loops, AccessState[] access, int[] distance) throws Exception {
        Export e = rig.export(fastConfig("e" + System.nanoTime()));
        for (int i = 0; i < loops.length; i++) {
            BackendDriver d = rig.fileDriver(img);
            e.addPath(path("p" + i, distance[i], access[i]), loops[i] == null ? d : new FakeSingleLoopDriver(d, loops[i]));
        }
        return TestRig.startLive(e).paths().toArray(new Path[0]);
    }

    private Path[] onLoops(EventExecutor... loops) throws Exception {
        AccessState[] a = new AccessState[loops.length];
        java.util.Arrays.fill(a, AccessState.OPTIMIZED);
        return paths(loops, a, new int[loops.length]);
    }

    private static <T> T on(EventLoop loop, Callable<T> task) throws Exception {
        return loop.submit(task).get(5, TimeUnit.SECONDS);
    }

    private static Path select(EventLoop loop, IoPolicy policy, Path[] p) throws Exception {
        return on(loop, () -> policy.select(READ_4K, p, null));
    }

    @Test
    void pathsKnowWhetherTheirSessionRunsOnTheCallersLoop() throws Exception {
        Path[] p = paths(new EventExecutor[] {loopA, null}, new AccessState[] {AccessState.OPTIMIZED,
            AccessState.OPTIMIZED}, new int[2]);
        assertTrue(on(loopA, p[0]::onCallerLoop));
        assertFalse(on(loopB, p[0]::onCallerLoop));
        assertFalse(p[0].onCallerLoop(), "the test thread is no event loop");
        assertFalse(on(loopA, p[1]::onCallerLoop), "a session without affinity is local to no loop");
    }

    @Test
    void numaTakesTheLocalPathOnlyAmongTheNearest() throws Exception {
        Path[] p = paths(new EventExecutor[] {loopA, loopB, loopB}, new AccessState[] {AccessState.OPTIMIZED,
            AccessState.OPTIMIZED, AccessState.OPTIMIZED}, new int[] {10, 10, 20});
        assertSame(p[0], select(loopA, IoPolicies.create(IoPolicies.NUMA), p));
        assertSame(p[1], select(loopB, IoPolicies.create(IoPolicies.NUMA), p));
        Path[] q = paths(new EventExecutor[] {loopA, loopB}, new AccessState[] {AccessState.OPTIMIZED,
            AccessState.OPTIMIZED}, new int[] {10, 20});
        assertSame(q[0], select(loopB, IoPolicies.create(IoPolicies.NUMA), q), "distance first");
    }

    @Test
    void numaPutsAccessStateBeforeAffinity() throws Exception {
        Path[] p = paths(new EventExecutor[] {loopA, loopB}, new AccessState[] {AccessState.NON_OPTIMIZED,
            AccessState.OPTIMIZED}, new int[2]);
        assertSame(p[1], select(loopA, IoPolicies.create(IoPolicies.NUMA), p));
        // among non-optimized paths the same rule applies
        Path[] q = paths(new EventExecutor[] {loopA, loopB}, new AccessState[] {AccessState.NON_OPTIMIZED,
            AccessState.NON_OPTIMIZED}, new int[2]);
        assertSame(q[1], select(loopB, IoPolicies.create(IoPolicies.NUMA), q));
    }

    @Test
    void numaWithSessionsOnEveryLoopKeepsTheFirstNearest() throws Exception {
        Path[] p = paths(new EventExecutor[] {null, null}, new AccessState[] {AccessState.OPTIMIZED,
            AccessState.OPTIMIZED}, new int[2]);
        assertSame(p[0], select(loopB, IoPolicies.create(IoPolicies.NUMA), p));
        Path[] q = onLoops(loopA, loopB);
        assertSame(q[0], IoPolicies.create(IoPolicies.NUMA).select(READ_4K, q, null), "off any loop: as before");
    }

    @Test
    void selectionOnALoopAllocatesNothing() throws Exception {
        Path[] p = onLoops(loopA, loopB);
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (String name : IoPolicies.names()) {
            IoPolicy policy = IoPolicies.create(name);
            long allocated = on(loopA, () -> {
                for (int i = 0; i < 20_000; i++) {
                    policy.select(READ_4K, p, (i & 7) == 0 ? p[1] : null);
                }
                long tid = Thread.currentThread().getId();
                long before = mx.getThreadAllocatedBytes(tid);
                for (int i = 0; i < 100_000; i++) {
                    policy.select(READ_4K, p, (i & 7) == 0 ? p[1] : null);
                }
                return mx.getThreadAllocatedBytes(tid) - before;
            });
            assertTrue(allocated < 4096, name + " allocated " + allocated + " bytes in 100k selections on a loop");
        }
    }
}
