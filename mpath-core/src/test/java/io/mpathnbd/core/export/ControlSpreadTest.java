package io.mpathnbd.core.export;

import static io.mpathnbd.core.support.TestClient.ok;
import static io.mpathnbd.core.support.TestRig.fastConfig;
import static io.mpathnbd.core.support.TestRig.path;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.AccessState;
import io.mpathnbd.core.backend.BackendCallback;
import io.mpathnbd.core.backend.BackendSession;
import io.mpathnbd.core.backend.ControlResult;
import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.backend.FailureKind;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.path.PathState;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.core.request.Extents;
import io.mpathnbd.core.support.Await;
import io.mpathnbd.core.support.FaultInjectingDriver;
import io.mpathnbd.core.support.FaultInjectingDriver.Action;
import io.mpathnbd.core.support.TestClient;
import io.mpathnbd.core.support.TestRig;
import io.netty.buffer.ByteBuf;
import java.io.RandomAccessFile;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The three ways a control command travels, over real exports of fault-injecting file paths. No backend has
 * reservations yet, so the command is a real one the file session has: an 8-byte READ of a stamp written at offset 0,
 * its outcome turned into a typed result. The fault-injecting driver fails it as PATH, TIMEOUT or TARGET, or hangs it.
 */
class ControlSpreadTest {
    private static final int MIB = 1 << 20;
    private static final long STAMP = 0x1122334455667788L;

    @TempDir
    java.nio.file.Path dir;

    private TestRig rig;
    private java.nio.file.Path img;
    private final List<FaultInjectingDriver> drivers = new ArrayList<>();
    private final List<Path> paths = new ArrayList<>();
    private Export e;

    /** Every run of the stamp read: on which session, and whether that session was carrying I/O then. */
    private record Run(Path path, BackendSession session, boolean pathLive) {
    }

    private final List<Run> runs = new CopyOnWriteArrayList<>();

    /** Reads the stamp through the session it is given. */
    private final ControlStep<Long> readStamp = (p, s) -> {
        runs.add(new Run(p, s, p.session() != null && p.session().backend() == s));
        CompletableFuture<ControlResult<Long>> f = new CompletableFuture<>();
        s.submit(new BlockRequest(BlockOp.READ, 0, 0, 8, 0, null, null), new BackendCallback() {
            @Override
            public void succeeded(ByteBuf data, Extents extents) {
                try {
                    f.complete(ControlResult.ok(data.getLong(data.readerIndex())));
                } finally {
                    data.release();
                }
            }

            @Override
            public void failed(Failure failure) {
                f.complete(ControlResult.failed(failure));
            }
        });
        return f;
    };

    /** The same, as an admission step. */
    private final ControlStep<Void> admitStamp = (p, s) -> readStamp.run(p, s).thenApply(r -> r.succeeded()
            ? (r.value() == STAMP ? ControlResult.ok() : ControlResult.failed(Failure.target(Errno.EIO, "no stamp")))
            : ControlResult.failed(r.failure()));

    @BeforeEach
    void setUp() throws Exception {
        rig = new TestRig(dir);
        img = rig.image("disk.img", 4 * MIB);
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.writeLong(STAMP);
        }
    }

    @AfterEach
    void tearDown() {
        rig.close();
    }

    /** Paths p0, p1, ... at distances 1, 2, ...; {@code access} per path (null: optimized). */
    private void create(ExportConfig config, AccessState... access) {
        e = rig.export(config);
        for (int i = 0; i < access.length; i++) {
            FaultInjectingDriver f = rig.faulty(img);
            drivers.add(f);
            paths.add(e.addPath(path("p" + i, i + 1, access[i] == null ? AccessState.OPTIMIZED : access[i]), f));
        }
    }

    private void startLive(int n) throws Exception {
        create(fastConfig("ctl"), new AccessState[n]);
        TestRig.startLive(e);
    }

    private long reads(int i) {
        return drivers.get(i).servedCount(BlockOp.READ);
    }

    private static <T> T get(CompletableFuture<T> f) throws Exception {
        return f.get(10, TimeUnit.SECONDS);
    }

    // ------------------------------------------------------------ through one path

    @Test
    void throughOneUsesTheNearestPathOnly() throws Exception {
        startLive(3);
        ControlResult<Long> r = get(e.control().throughOne("READ STAMP", readStamp));
        assertEquals(STAMP, r.value());
        assertEquals(1, reads(0));
        assertEquals(0, reads(1) + reads(2));
    }

    @Test
    void throughOneMovesToTheNextPathOnAPathErrorAndFailsThePathThatHadIt() throws Exception {
        startLive(3);
        drivers.get(0).failNext(BlockOp.READ, Action.PATH);
        ControlResult<Long> r = get(e.control().throughOne("READ STAMP", readStamp));
        assertEquals(STAMP, r.value());
        assertEquals(List.of(paths.get(0), paths.get(1)), runs.stream().map(Run::path).toList());
        Await.until("p0 failed", () -> e.pathFailures() == 1);
        assertTrue(paths.get(0).lastError() == null || paths.get(0).lastError().contains("READ STAMP"),
                paths.get(0).lastError());
        assertEquals(0, reads(2));
    }

    @Test
    void throughOneStopsAtTheDisksAnswer() throws Exception {
        startLive(2);
        drivers.get(0).failNext(BlockOp.READ, Action.TARGET, Errno.EPERM);
        ControlResult<Long> r = get(e.control().throughOne("READ STAMP", readStamp));
        assertEquals(FailureKind.TARGET, r.failure().kind());
        assertEquals(Errno.EPERM, r.failure().errno());
        assertEquals(1, runs.size(), "a target error is not tried elsewhere");
        assertEquals(PathState.LIVE, paths.get(0).state(), "nor does it fail the path");
        assertEquals(0, e.pathFailures());
    }

    @Test
    void throughOneReportsAPathErrorWhenEveryLivePathHadOne() throws Exception {
        startLive(2);
        drivers.get(0).failNext(BlockOp.READ, Action.TIMEOUT);
        drivers.get(1).failNext(BlockOp.READ, Action.PATH);
        ControlResult<Long> r = get(e.control().throughOne("READ STAMP", readStamp));
        assertTrue(r.isPathError(), r.toString());
        assertTrue(r.failure().message().contains("failed on every live path")
                && r.failure().message().contains("path p1"), r.failure().message());
        assertEquals(2, runs.size());
    }

    @Test
    void throughOneBoundsACommandThatNeverAnswers() throws Exception {
        startLive(2);
        drivers.get(0).failNext(BlockOp.READ, Action.HANG);
        long t0 = System.nanoTime();
        ControlResult<Long> r = get(e.control().throughOne("READ STAMP", readStamp));
        long took = System.nanoTime() - t0;
        assertEquals(STAMP, r.value());
        // bound: twice the 500 ms request timeout plus a second
        assertTrue(took >= TimeUnit.MILLISECONDS.toNanos(2000), "moved on after " + took + " ns");
        assertEquals(List.of(paths.get(0), paths.get(1)), runs.stream().map(Run::path).toList());
        Await.until("p0 failed", () -> e.pathFailures() == 1);
    }

    @Test
    void withoutALivePathACommandFailsWithAPathErrorThatSaysWhy() throws Exception {
        startLive(1);
        e.failPath("p0");
        Await.until("p0 disabled", () -> paths.get(0).state() == PathState.DISABLED);
        ControlResult<Long> one = get(e.control().throughOne("READ STAMP", readStamp));
        ControlSpread.Answers<Long> every = get(e.control().toEveryLive("READ STAMP", readStamp));
        for (Failure f : List.of(one.failure(), every.failure())) {
            assertEquals(FailureKind.PATH, f.kind());
            assertTrue(f.message().contains("has no live path") && f.message().contains("p0 disabled"),
                    f.message());
        }
        assertTrue(every.answers().isEmpty());
        assertTrue(runs.isEmpty());
    }

    @Test
    void throughOnePrefersASelectablePathOverANearerStandbyOne() throws Exception {
        create(fastConfig("standby"), AccessState.STANDBY, null);
        TestRig.startLive(e);
        ControlResult<Long> r = get(e.control().throughOne("READ STAMP", readStamp));
        assertEquals(STAMP, r.value());
        assertEquals(List.of(paths.get(1)), runs.stream().map(Run::path).toList());
    }

    // ------------------------------------------------------------ every live path

    @Test
    void toEveryLiveReachesEveryLivePathEvenOnesTheIoPolicySkips() throws Exception {
        create(fastConfig("every"), null, AccessState.STANDBY, null);
        TestRig.startLive(e);
        assertFalse(paths.get(1).selectable());
        ControlSpread.Answers<Long> a = get(e.control().toEveryLive("READ STAMP", readStamp));
        assertTrue(a.succeeded());
        assertTrue(a.result().succeeded());
        assertEquals(paths, a.answers().stream().map(ControlSpread.Answer::path).toList());
        for (ControlSpread.Answer<Long> x : a.answers()) {
            assertEquals(STAMP, x.result().value());
        }
        assertEquals(1, reads(0));
        assertEquals(1, reads(1));
        assertEquals(1, reads(2));
    }

    @Test
    void toEveryLiveKeepsEachPathsAnswerAndReportsTheDisksOne() throws Exception {
        startLive(3);
        drivers.get(0).failNext(BlockOp.READ, Action.PATH);
        drivers.get(2).failNext(BlockOp.READ, Action.TARGET, Errno.EPERM);
        ControlSpread.Answers<Long> a = get(e.control().toEveryLive("READ STAMP", readStamp));
        assertFalse(a.succeeded());
        assertTrue(a.answers().get(0).result().isPathError());
        assertEquals(STAMP, a.answers().get(1).result().value());
        assertEquals(FailureKind.TARGET, a.answers().get(2).result().failure().kind());
        assertEquals(FailureKind.TARGET, a.failure().kind(), "the disk's answer wins over a lost path");
        assertTrue(a.failure().message().startsWith("path p2: "), a.failure().message());
        assertEquals(Errno.EPERM, a.result().failure().errno());
        Await.until("p0 failed", () -> e.pathFailures() == 1);
        assertEquals(PathState.LIVE, paths.get(2).state());
        assertEquals(3, runs.size(), "no leg moves to another path");
    }

    // ------------------------------------------------------------ every path that becomes live later

    @Test
    void withoutAdmissionStepsSessionsGoLiveWithoutOne() throws Exception {
        create(fastConfig("none"), null, null);
        assertNull(e.control().admission(paths.get(0)));
        TestRig.startLive(e);
        assertEquals(0, reads(0) + reads(1));
    }

    @Test
    void everySessionRunsTheAdmissionStepsBeforeItCarriesIo() throws Exception {
        create(fastConfig("admit"), null, null);
        e.control().onAdmit("READ STAMP", admitStamp);
        TestRig.startLive(e);
        assertEquals(2, runs.size());
        for (int i = 0; i < 2; i++) {
            Run run = runs.get(i);
            assertFalse(run.pathLive(), "ran before the session carried I/O");
            assertSame(run.path().session().backend(), run.session());
        }

        // a reconnect admits the new session too, before its first request
        BackendSession lost = paths.get(0).session().backend();
        drivers.get(0).dropSession("cut");
        Await.until("p0 live on a new session", () -> paths.get(0).session() != null
                && paths.get(0).session().backend() != lost);
        Run again = runs.get(runs.size() - 1);
        assertSame(paths.get(0), again.path());
        assertSame(paths.get(0).session().backend(), again.session());
        assertFalse(again.pathLive(), "ran before the new session carried I/O");

        // and so does a path added later
        FaultInjectingDriver late = rig.faulty(img);
        Path p2 = e.addPath(path("p2", 3, AccessState.OPTIMIZED), late);
        Await.until("p2 live", () -> p2.state() == PathState.LIVE);
        assertSame(p2.session().backend(), runs.get(runs.size() - 1).session());
        assertEquals(1, late.servedCount(BlockOp.READ));
    }

    @Test
    void aPathWhoseAdmissionTheDiskRefusesCarriesNoIoAndSaysWhy() throws Exception {
        create(fastConfig("refused"), null, null);
        drivers.get(0).failAlways(BlockOp.READ, Action.TARGET);
        e.control().onAdmit("READ STAMP", admitStamp);
        e.start().get(10, TimeUnit.SECONDS);
        Await.until("p1 live", () -> paths.get(1).state() == PathState.LIVE);
        Await.until("p0 refused", () -> paths.get(0).state() == PathState.REFUSED);
        assertTrue(paths.get(0).lastError().startsWith("refused: READ STAMP: injected target error"),
                paths.get(0).lastError());
        TestClient c = new TestClient(e);
        for (int i = 0; i < 4; i++) {
            ok(c.write(4096L * (i + 1), new byte[512])); // the stamp at 0 stays
        }
        assertEquals(0, drivers.get(0).servedCount(BlockOp.WRITE));
        assertEquals(4, drivers.get(1).servedCount(BlockOp.WRITE));
        // refused paths are retried: once the disk stops refusing, the path is admitted
        drivers.get(0).heal();
        Await.until("p0 live", () -> paths.get(0).state() == PathState.LIVE);
        c.assertNoDuplicateAnswers();
        c.assertPayloadsReleased();
    }

    @Test
    void aPathErrorDuringAdmissionMeansReconnectingAndAdmittingAfresh() throws Exception {
        create(fastConfig("reconnect"), (AccessState) null);
        drivers.get(0).failNext(BlockOp.READ, Action.PATH);
        e.control().onAdmit("READ STAMP", admitStamp);
        TestRig.startLive(e);
        List<FaultInjectingDriver.FaultySession> sessions = drivers.get(0).sessions();
        assertTrue(sessions.size() >= 2, "reconnected");
        sessions.get(0).closeFuture().get(10, TimeUnit.SECONDS); // the session that lost its nexus is closed
        assertTrue(paths.get(0).lastError() == null, "live again: " + paths.get(0).lastError());
        assertSame(sessions.get(sessions.size() - 1), paths.get(0).session().backend());
    }

    @Test
    void stepsRunInOrderTheFirstFailureEndsTheAdmissionAndRemovedStepsStop() throws Exception {
        create(fastConfig("order"), (AccessState) null);
        List<String> ran = new CopyOnWriteArrayList<>();
        ControlStep<Void> first = (p, s) -> {
            ran.add("first");
            return CompletableFuture.completedFuture(ran.size() == 1
                    ? ControlResult.failed(Failure.target(Errno.EIO, "not yet")) : ControlResult.ok());
        };
        ControlStep<Void> second = (p, s) -> {
            ran.add("second");
            return CompletableFuture.completedFuture(ControlResult.ok());
        };
        e.control().onAdmit("FIRST", first);
        e.control().onAdmit("SECOND", second);
        TestRig.startLive(e);
        assertEquals(List.of("first", "first", "second"), ran);

        assertTrue(e.control().removeOnAdmit(first));
        assertFalse(e.control().removeOnAdmit(first));
        BackendSession lost = paths.get(0).session().backend();
        drivers.get(0).dropSession("cut");
        Await.until("p0 live on a new session", () -> paths.get(0).session() != null
                && paths.get(0).session().backend() != lost);
        assertEquals(List.of("first", "first", "second", "second"), ran);
    }
}
