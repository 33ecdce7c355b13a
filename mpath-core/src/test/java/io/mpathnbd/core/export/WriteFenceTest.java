package io.mpathnbd.core.export;

import static io.mpathnbd.core.support.TestClient.await;
import static io.mpathnbd.core.support.TestClient.ok;
import static io.mpathnbd.core.support.TestRig.fastConfig;
import static io.mpathnbd.core.support.TestRig.path;
import static io.mpathnbd.testing.peers.Images.pattern;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.AccessState;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.core.support.Await;
import io.mpathnbd.core.support.FaultInjectingDriver;
import io.mpathnbd.core.support.FaultInjectingDriver.Action;
import io.mpathnbd.core.support.FaultInjectingDriver.FaultySession;
import io.mpathnbd.core.support.FaultInjectingDriver.Served;
import io.mpathnbd.core.support.Outcome;
import io.mpathnbd.core.support.TestClient;
import io.mpathnbd.core.support.TestRig;
import java.io.RandomAccessFile;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The write fence: an in-doubt write leaves its path only after that path's session is closed and the fence delay has
 * passed; reads are retried at once. Timestamps come from the fake's record of when each path received a request.
 */
class WriteFenceTest {
    private static final int MIB = 1 << 20;
    private static final long FENCE_MS = 80;
    private static final long CLOSE_DELAY_MS = 120;

    @TempDir
    java.nio.file.Path dir;

    private TestRig rig;
    private java.nio.file.Path img;
    private FaultInjectingDriver fa;
    private FaultInjectingDriver fb;
    private Export e;
    private Path a;
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

    private void start(ExportConfig config) throws Exception {
        e = rig.export(config);
        fa = rig.faulty(img).closeDelay(CLOSE_DELAY_MS);
        fb = rig.faulty(img);
        a = e.addPath(path("a", 1, AccessState.OPTIMIZED), fa);
        e.addPath(path("b", 2, AccessState.OPTIMIZED), fb);
        TestRig.startLive(e);
        c = new TestClient(e);
    }


    private static long servedAt(FaultInjectingDriver f, BlockOp op) {
        for (Served s : f.served()) {
            if (s.op() == op) {
                return s.nanos();
            }
        }
        throw new AssertionError("no " + op + " reached the path");
    }

    @Test
    void aTimedOutWriteWaitsForTheCloseAndTheFenceDelay() throws Exception {
        start(fastConfig("fence").withFenceDelay(Duration.ofMillis(FENCE_MS)));
        fa.failNext(BlockOp.WRITE, Action.HANG);
        CompletableFuture<Outcome> w = c.write(65536, pattern(1, 65536));
        Await.until("write hung on a", () -> fa.hungCount() == 1);
        FaultySession hungSession = fa.current();
        fa.timeoutHung();
        Await.until("write fenced", () -> e.fenced() == 1);
        assertFalse(w.isDone());
        ok(w);
        long closed = hungSession.closedNanos();
        assertTrue(closed > 0, "the timed-out path's session was closed");
        long retried = servedAt(fb, BlockOp.WRITE);
        long gapMs = TimeUnit.NANOSECONDS.toMillis(retried - closed);
        assertTrue(retried - closed >= TimeUnit.MILLISECONDS.toNanos(FENCE_MS),
                "retried " + gapMs + " ms after the close, fence is " + FENCE_MS + " ms");
        assertEquals(0, e.fenced());
        Await.until("one failover", () -> e.failovers() == 1);
        byte[] onDisk = new byte[65536];
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "r")) {
            f.seek(65536);
            f.readFully(onDisk);
        }
        assertArrayEquals(pattern(1, 65536), onDisk);
    }

    @Test
    void aTimedOutReadIsRetriedAtOnce() throws Exception {
        start(fastConfig("reads").withFenceDelay(Duration.ofSeconds(3)));
        fa.failNext(BlockOp.READ, Action.HANG);
        CompletableFuture<Outcome> r = c.read(0, 4096);
        Await.until("read hung on a", () -> fa.hungCount() == 1);
        FaultySession hungSession = fa.current();
        fa.timeoutHung();
        ok(r);
        long retried = servedAt(fb, BlockOp.READ);
        assertTrue(hungSession.closedNanos() == 0 || retried < hungSession.closedNanos(),
                "the read must not wait for the session close");
        assertEquals(0, e.fenced());
    }

    @Test
    void aWriteThatMetAPathErrorIsFencedToo() throws Exception {
        start(fastConfig("patherr").withFenceDelay(Duration.ofMillis(FENCE_MS)));
        fa.failNext(BlockOp.WRITE_ZEROES, Action.PATH);
        FaultySession session = fa.current();
        ok(c.submit(BlockOp.WRITE_ZEROES, 0, 0, 4096, null));
        long retried = servedAt(fb, BlockOp.WRITE_ZEROES);
        assertTrue(session.closedNanos() > 0);
        assertTrue(retried - session.closedNanos() >= TimeUnit.MILLISECONDS.toNanos(FENCE_MS),
                "retried " + TimeUnit.NANOSECONDS.toMillis(retried - session.closedNanos()) + " ms after the close");
    }

    @Test
    void aFencedWritePastItsDeadlineFails() throws Exception {
        start(fastConfig("late").withFenceDelay(Duration.ofMillis(400)).withNoPathTimeout(Duration.ofMillis(100)));
        fa.failNext(BlockOp.WRITE, Action.TIMEOUT);
        Outcome o = await(c.write(0, pattern(2, 512)));
        assertEquals(Errno.EIO, o.errno());
        assertTrue(o.message().contains("fenced"), o.message());
        assertEquals(0, fb.servedCount(BlockOp.WRITE), "an expired in-doubt write must not be sent anywhere");
    }

    @Test
    void closingTheExportFailsFencedWrites() throws Exception {
        start(fastConfig("closing").withFenceDelay(Duration.ofSeconds(5)));
        fa.failNext(BlockOp.WRITE, Action.TIMEOUT);
        CompletableFuture<Outcome> w = c.write(0, pattern(3, 512));
        Await.until("fenced", () -> e.fenced() == 1);
        e.close().get(5, TimeUnit.SECONDS);
        assertEquals(Errno.ESHUTDOWN, await(w).errno());
    }
}
