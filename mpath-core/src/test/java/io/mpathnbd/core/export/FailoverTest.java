package io.mpathnbd.core.export;

import static io.mpathnbd.core.support.TestClient.await;
import static io.mpathnbd.core.support.TestClient.ok;
import static io.mpathnbd.core.support.TestRig.fastConfig;
import static io.mpathnbd.core.support.TestRig.path;
import static io.mpathnbd.testing.peers.Images.pattern;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.BackendException;
import io.mpathnbd.core.backend.AccessState;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.path.PathState;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.core.support.Await;
import io.mpathnbd.core.support.FaultInjectingDriver;
import io.mpathnbd.core.support.FaultInjectingDriver.Action;
import io.mpathnbd.core.support.Outcome;
import io.mpathnbd.core.support.RecordingObserver;
import io.mpathnbd.core.support.TestClient;
import io.mpathnbd.core.support.TestRig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Path errors, target errors, retries, holding and failback, with two fault-injecting paths over one image file.
 * Path a is nearer (numa), so it carries I/O while it is usable.
 */
class FailoverTest {
    private static final int MIB = 1 << 20;

    @TempDir
    java.nio.file.Path dir;

    private TestRig rig;
    private java.nio.file.Path img;
    private FaultInjectingDriver fa;
    private FaultInjectingDriver fb;
    private RecordingObserver obs;
    private Export e;
    private Path a;
    private Path b;
    private TestClient c;

    @BeforeEach
    void setUp() throws Exception {
        rig = new TestRig(dir);
        img = rig.image("disk.img", 4 * MIB);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (c != null) {
            c.assertNoDuplicateAnswers();
        }
        rig.close();
        if (c != null) {
            c.assertPayloadsReleased();
        }
    }

    private void start(ExportConfig config) throws Exception {
        obs = new RecordingObserver();
        e = rig.export(config, obs);
        fa = rig.faulty(img);
        fb = rig.faulty(img);
        a = e.addPath(path("a", 1, AccessState.OPTIMIZED), fa);
        b = e.addPath(path("b", 2, AccessState.OPTIMIZED), fb);
        TestRig.startLive(e);
        c = new TestClient(e);
    }


    /** Both paths down and unable to reconnect (but trying). */
    private void bothDown() {
        BackendException refused = new BackendException("injected: connection refused");
        fa.refuseConnects(refused);
        fb.refuseConnects(refused);
        fa.dropSession("test: a cut");
        fb.dropSession("test: b cut");
        Await.until("both down", () -> a.state() != PathState.LIVE && b.state() != PathState.LIVE);
    }

    @Test
    void aPathErrorFailsOverAndRequeues() throws Exception {
        start(fastConfig("failover"));
        ok(c.write(0, pattern(1, 8192)));
        assertEquals(1, fa.servedCount(BlockOp.WRITE));
        fa.failNext(BlockOp.READ, Action.PATH);
        Outcome r = ok(c.read(0, 8192));
        assertArrayEquals(pattern(1, 8192), r.data());
        assertEquals(1, fb.servedCount(BlockOp.READ));
        assertEquals(2, r.request().attempts());
        Await.until("one failover", () -> e.failovers() == 1);
        assertEquals(1, e.requeues());
        Await.until("observer told once", () -> obs.failovers.size() == 1);
        assertTrue(obs.failovers.get(0).startsWith("a: injected path failure"), obs.failovers.toString());
        assertEquals(1, obs.requeued.get());
        assertEquals(1, a.errors());
        // immediate failback: a reconnects and, being nearer, carries I/O again
        Await.until("a back", () -> a.selectable());
        ok(c.read(0, 512));
        assertEquals(1, fa.servedCount(BlockOp.READ));
        Await.until("observer saw a fail", () -> obs.transitions.contains("a LIVE->FAILED: injected path failure"));
    }

    @Test
    void oneFailoverEventForManyRequests() throws Exception {
        start(fastConfig("burst"));
        fa.failAlways(BlockOp.READ, Action.HANG);
        List<CompletableFuture<Outcome>> reads = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            reads.add(c.read((long) i * 4096, 4096));
        }
        Await.until("6 hung", () -> fa.hungCount() == 6);
        assertEquals(6, a.inFlight());
        fa.heal();
        fa.dropSession("test: connection reset");
        reads.forEach(TestClient::ok);
        assertEquals(6, fb.servedCount(BlockOp.READ));
        Await.until("one failover", () -> e.failovers() == 1);
        Await.until("observer told once", () -> obs.failovers.size() == 1);
        assertEquals(6, e.requeues());
        assertEquals(0, a.inFlight());
    }

    @Test
    void targetErrorsReachTheClientUnchanged() throws Exception {
        start(fastConfig("target"));
        fa.failNext(BlockOp.WRITE, Action.TARGET, Errno.ENOSPC);
        Outcome w = await(c.write(0, pattern(2, 512)));
        assertFalse(w.ok());
        assertEquals(Errno.ENOSPC, w.errno());
        fa.failNext(BlockOp.READ, Action.TARGET, Errno.EINVAL);
        assertEquals(Errno.EINVAL, await(c.read(0, 512)).errno());
        assertEquals(0, e.failovers());
        assertEquals(0, e.requeues());
        assertEquals(PathState.LIVE, a.state());
        assertEquals(0, fb.servedCount(BlockOp.READ) + fb.servedCount(BlockOp.WRITE));
    }

    @Test
    void busyIsRetriedOnTheSamePath() throws Exception {
        start(fastConfig("busy"));
        fa.failNext(BlockOp.READ, Action.RETRY_SAME_PATH);
        Outcome r = ok(c.read(0, 512));
        assertEquals(2, r.request().attempts());
        assertEquals(1, fa.servedCount(BlockOp.READ));
        assertEquals(0, fb.servedCount(BlockOp.READ));
        assertEquals(0, e.failovers());
        assertEquals(PathState.LIVE, a.state());
    }

    @Test
    void retriesAreBounded() throws Exception {
        start(fastConfig("bounded").withMaxRetries(2));
        fa.failAlways(BlockOp.READ, Action.PATH);
        fb.failAlways(BlockOp.READ, Action.PATH);
        Outcome r = await(c.read(0, 512));
        assertFalse(r.ok());
        assertEquals(Errno.EIO, r.errno());
        assertEquals(3, r.request().attempts());
        assertTrue(r.message().contains("gave up after 3 attempts"), r.message());
        fa.heal();
        fb.heal();
        Await.until("a back", () -> a.selectable());

        fa.failAlways(BlockOp.WRITE, Action.RETRY_SAME_PATH);
        Outcome w = await(c.write(0, pattern(3, 512)));
        assertEquals(Errno.EIO, w.errno());
        assertEquals(3, w.request().attempts());
        assertTrue(w.message().contains("gave up"), w.message());
    }

    @Test
    void heldRequestsFailWhenTheNoPathTimeoutPasses() throws Exception {
        start(fastConfig("timeout").withNoPathTimeout(Duration.ofMillis(200)));
        bothDown();
        long t0 = System.nanoTime();
        CompletableFuture<Outcome> r = c.read(0, 512);
        CompletableFuture<Outcome> w = c.write(0, pattern(4, 512));
        Await.until("held", () -> e.held() == 2);
        Outcome o = await(r);
        long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertEquals(Errno.EIO, o.errno());
        assertTrue(o.message().contains("no-path-timeout"), o.message());
        assertTrue(waited >= 190, "failed after " + waited + " ms");
        assertEquals(Errno.EIO, await(w).errno());
        assertEquals(0, e.held());
        assertEquals(2, obs.held.get());
    }

    @Test
    void heldRequestsGoOutWhenAPathReturns() throws Exception {
        start(fastConfig("return"));
        ok(c.write(0, pattern(5, 4096)));
        bothDown();
        CompletableFuture<Outcome> r = c.read(0, 4096);
        CompletableFuture<Outcome> w = c.write(8192, pattern(6, 4096));
        Await.until("held", () -> e.held() == 2);
        fb.heal();
        assertArrayEquals(pattern(5, 4096), ok(r).data());
        ok(w);
        assertArrayEquals(pattern(6, 4096), ok(c.read(8192, 4096)).data());
        assertEquals(0, e.held());
    }

    @Test
    void queueIfNoPathWaitsBeyondTheTimeout() throws Exception {
        start(fastConfig("queue").withNoPathTimeout(Duration.ofMillis(50)).withQueueIfNoPath(true));
        bothDown();
        CompletableFuture<Outcome> r = c.read(0, 512);
        Await.until("held", () -> e.held() == 1);
        // well past the no-path timeout, still waiting
        assertThrows(TimeoutException.class, () -> r.get(300, TimeUnit.MILLISECONDS),
                "queue-if-no-path must keep the request");
        fb.heal();
        ok(r);
    }

    @Test
    void noPathThatCanComeBackFailsAtOnce() throws Exception {
        start(fastConfig("hopeless"));
        e.failPath("a");
        e.failPath("b");
        assertEquals(PathState.DISABLED, a.state());
        Outcome r = await(c.read(0, 512), Duration.ofSeconds(2));
        assertEquals(Errno.EIO, r.errno());
        assertTrue(r.message().contains("no usable path"), r.message());

        // held while paths reconnect; failed as soon as the last hope is gone
        e.reinstatePath("a");
        e.reinstatePath("b");
        Await.until("live again", () -> a.selectable() && b.selectable());
        bothDown();
        CompletableFuture<Outcome> held = c.write(0, pattern(7, 512));
        Await.until("held", () -> e.held() == 1);
        e.failPath("a");
        e.failPath("b");
        Outcome o = await(held, Duration.ofSeconds(2));
        assertEquals(Errno.EIO, o.errno());
        assertTrue(o.message().contains("none can come back"), o.message());
    }

    @Test
    void operatorFailDrainsThenReinstateReconnects() throws Exception {
        start(fastConfig("operator"));
        fa.failNext(BlockOp.READ, Action.HANG);
        CompletableFuture<Outcome> hung = c.read(0, 512);
        Await.until("hung", () -> fa.hungCount() == 1);
        e.failPath("a");
        assertEquals(PathState.DISABLED, a.state());
        assertFalse(a.selectable());
        ok(c.read(512, 512));
        assertEquals(1, fb.servedCount(BlockOp.READ));
        // the hung request holds the session open until the drain bound (the request timeout), then fails over
        ok(hung);
        assertEquals(2, fb.servedCount(BlockOp.READ));
        Await.until("a's session closed", () -> fa.current().isClosed());
        assertEquals(0, e.failovers(), "an operator fail is not a failover event");
        e.reinstatePath("a");
        Await.until("a live", () -> a.selectable());
        ok(c.read(0, 512));
        assertEquals(1, fa.servedCount(BlockOp.READ));
        assertEquals(2, fa.sessions().size());
    }

    @Test
    void manualFailbackWaitsForTheOperator() throws Exception {
        start(fastConfig("manual").withFailback(FailbackMode.MANUAL));
        fa.dropSession("test: flap");
        Await.until("a reconnected", () -> a.state() == PathState.LIVE && a.awaitingReinstate());
        assertFalse(a.selectable());
        assertTrue(a.lastError().contains("awaiting operator reinstate"), a.lastError());
        for (int i = 0; i < 3; i++) {
            ok(c.read(0, 512));
        }
        assertEquals(0, fa.servedCount(BlockOp.READ));
        assertEquals(3, fb.servedCount(BlockOp.READ));
        e.reinstatePath("a");
        assertTrue(a.selectable());
        assertFalse(a.awaitingReinstate());
        ok(c.read(0, 512));
        assertEquals(1, fa.servedCount(BlockOp.READ));
    }

    @Test
    void aFailedProbeFailsTheIdlePath() throws Exception {
        start(fastConfig("probe").withProbeInterval(Duration.ofMillis(30)));
        fa.failProbes(true);
        Await.until("a failed by probe", () -> e.pathFailures() > 0);
        assertTrue(obs.transitions.stream().anyMatch(t -> t.startsWith("a LIVE->FAILED: health probe failed")),
                obs.transitions.toString());
        // nothing was in flight on the idle path: a path failure, not a failover
        assertEquals(0, e.failovers());
        assertTrue(obs.failovers.isEmpty(), obs.failovers.toString());
        fa.failProbes(false);
        Await.until("a back", () -> a.selectable());
        ok(c.read(0, 512));
    }

    @Test
    void aSessionLostWhileIdleReconnectsWithBackoff() throws Exception {
        start(fastConfig("lost"));
        fa.refuseConnects(new BackendException("injected: refused"));
        fa.dropSession("test: peer reset");
        Await.until("a failed", () -> a.state() == PathState.FAILED);
        assertTrue(a.lastError().contains("peer reset") || a.lastError().contains("refused"), a.lastError());
        ok(c.read(0, 512)); // b carries on
        Await.until("several attempts", () -> obs.transitions.stream()
                .filter(t -> t.startsWith("a CONNECTING->FAILED")).count() >= 3);
        fa.heal();
        Await.until("a back", () -> a.selectable());
        assertEquals(2, fa.sessions().size());
    }
}
