package io.mpathnbd.core.export;

import static io.mpathnbd.core.support.TestClient.ok;
import static io.mpathnbd.core.support.TestRig.fastConfig;
import static io.mpathnbd.core.support.TestRig.path;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.AccessState;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.request.BlockFlags;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.core.support.Await;
import io.mpathnbd.core.support.FaultInjectingDriver;
import io.mpathnbd.core.support.FaultInjectingDriver.Action;
import io.mpathnbd.core.support.Outcome;
import io.mpathnbd.core.support.TestClient;
import io.mpathnbd.core.support.TestRig;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A client FLUSH reaches every path that completed writes since its last flush. */
class FlushTest {
    private static final int MIB = 1 << 20;

    @TempDir
    java.nio.file.Path dir;

    private TestRig rig;
    private java.nio.file.Path img;
    private final List<FaultInjectingDriver> drivers = new ArrayList<>();
    private final List<Path> paths = new ArrayList<>();
    private Export e;
    private TestClient c;

    @BeforeEach
    void setUp() throws Exception {
        rig = new TestRig(dir);
        img = rig.image("disk.img", 4 * MIB);
    }

    @AfterEach
    void tearDown() throws Exception {
        rig.close();
        if (c != null) {
            c.assertNoDuplicateAnswers();
            c.assertPayloadsReleased();
        }
    }

    private void start(ExportConfig config, int n) throws Exception {
        e = rig.export(config);
        for (int i = 0; i < n; i++) {
            FaultInjectingDriver f = rig.faulty(img);
            drivers.add(f);
            paths.add(e.addPath(path("p" + i, i + 1, AccessState.OPTIMIZED), f));
        }
        TestRig.startLive(e);
        c = new TestClient(e);
    }

    private long flushes(int i) {
        return drivers.get(i).servedCount(BlockOp.FLUSH);
    }

    private long allFlushes() {
        return drivers.stream().mapToLong(d -> d.servedCount(BlockOp.FLUSH)).sum();
    }

    @Test
    void everyPathWithUnflushedWritesIsFlushed() throws Exception {
        start(fastConfig("all").withIoPolicy("round-robin"), 2);
        for (int i = 0; i < 4; i++) {
            ok(c.write((long) i * 4096, new byte[4096]));
        }
        assertTrue(drivers.get(0).servedCount(BlockOp.WRITE) > 0 && drivers.get(1).servedCount(BlockOp.WRITE) > 0);
        assertTrue(paths.get(0).hasUnflushedWrites() && paths.get(1).hasUnflushedWrites());
        ok(c.flush());
        assertEquals(1, flushes(0));
        assertEquals(1, flushes(1));
        assertTrue(!paths.get(0).hasUnflushedWrites() && !paths.get(1).hasUnflushedWrites());
        // nothing written since: one path is enough
        ok(c.flush());
        assertEquals(3, allFlushes());
    }

    @Test
    void onlyPathsThatWroteAreFlushed() throws Exception {
        start(fastConfig("one"), 2);
        ok(c.write(0, new byte[512]));
        ok(c.write(512, new byte[512]));
        assertEquals(2, drivers.get(0).servedCount(BlockOp.WRITE));
        ok(c.flush());
        assertEquals(1, flushes(0));
        assertEquals(0, flushes(1));
    }

    @Test
    void fuaWritesNeedNoFlush() throws Exception {
        start(fastConfig("fua").withIoPolicy("round-robin"), 2);
        ok(c.write(0, new byte[512], BlockFlags.FUA));
        ok(c.write(512, new byte[512], BlockFlags.FUA));
        assertTrue(!paths.get(0).hasUnflushedWrites() && !paths.get(1).hasUnflushedWrites());
        ok(c.flush());
        assertEquals(1, allFlushes());
    }

    @Test
    void anUnflushedPathThatIsGoneMeansFlushingEveryLivePath() throws Exception {
        start(fastConfig("gone"), 3);
        ok(c.write(0, new byte[4096]));
        assertEquals(1, drivers.get(0).servedCount(BlockOp.WRITE));
        e.failPath("p0");
        Await.until("p0's session closed", () -> drivers.get(0).current().isClosed());
        ok(c.flush());
        assertEquals(0, flushes(0));
        assertEquals(1, flushes(1));
        assertEquals(1, flushes(2));
        // that flush covered p0's writes too: the next one goes to one path
        ok(c.flush());
        assertEquals(3, allFlushes());
    }

    @Test
    void aFlushLegThatMeetsAPathErrorIsRetriedOnAnotherPath() throws Exception {
        start(fastConfig("leg").withIoPolicy("round-robin"), 2);
        ok(c.write(0, new byte[512]));
        ok(c.write(512, new byte[512]));
        assertTrue(paths.get(0).hasUnflushedWrites() && paths.get(1).hasUnflushedWrites());
        drivers.get(0).failNext(BlockOp.FLUSH, Action.PATH);
        ok(c.flush());
        assertEquals(0, flushes(0));
        assertEquals(2, flushes(1));
        Await.until("one failover", () -> e.failovers() == 1);
    }

    @Test
    void aFlushLegWithATargetErrorFailsTheClientsFlushAndLeavesThatPathDirty() throws Exception {
        start(fastConfig("target").withIoPolicy("round-robin"), 2);
        ok(c.write(0, new byte[512]));
        ok(c.write(512, new byte[512]));
        assertTrue(paths.get(0).hasUnflushedWrites() && paths.get(1).hasUnflushedWrites());
        drivers.get(0).failNext(BlockOp.FLUSH, Action.TARGET, Errno.ENOSPC);
        Outcome o = TestClient.await(c.flush());
        assertFalse(o.ok());
        assertEquals(Errno.ENOSPC, o.errno());
        assertTrue(o.message().contains("injected target error"), o.message());
        assertTrue(paths.get(0).hasUnflushedWrites(), "the failed leg's path still needs a flush");
        assertFalse(paths.get(1).hasUnflushedWrites(), "the other leg succeeded");
        assertEquals(0, e.failovers(), "a target error fails no path");
        ok(c.flush());
        assertEquals(1, flushes(0));
    }

    @Test
    void aFlushWithNothingWrittenGoesToOnePath() throws Exception {
        start(fastConfig("idle"), 3);
        ok(c.flush());
        assertEquals(1, allFlushes());
    }
}
