package io.mpathnbd.core.path;

import static io.mpathnbd.core.support.TestRig.fastConfig;
import static io.mpathnbd.core.support.TestRig.path;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.AccessState;
import io.mpathnbd.core.backend.AccessStateSource;
import io.mpathnbd.core.backend.BackendDriver;
import io.mpathnbd.core.backend.BackendSession;
import io.mpathnbd.core.export.Export;
import io.mpathnbd.core.support.Await;
import io.mpathnbd.core.support.DelegatingSession;
import io.mpathnbd.core.support.TestClient;
import io.mpathnbd.core.support.TestRig;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A path follows the access state its session reports ({@link AccessStateSource}), combined with the operator's.
 * The reporting side is a fake (a real file session wrapped to report states on command): real ALUA needs a target
 * that has it, and tgt has not; the iSCSI driver tests cover the mapping from recorded target answers.
 */
class AccessStateFollowingTest {
    private static final int MIB = 1 << 20;

    @TempDir
    java.nio.file.Path dir;

    private final List<ReportingDriver> drivers = new CopyOnWriteArrayList<>();

    private TestRig rig;
    private java.nio.file.Path img;

    @BeforeEach
    void setUp() throws Exception {
        rig = new TestRig(dir);
        img = rig.image("disk.img", 4 * MIB);
    }

    @AfterEach
    void tearDown() {
        rig.close();
    }

    @Test
    void theReportedStateBecomesThePathsStateAndChangesAreFollowed() throws Exception {
        ReportingDriver d = new ReportingDriver(rig.fileDriver(img), AccessState.NON_OPTIMIZED);
        Export e = rig.export(fastConfig("follow"));
        Path p = add(e, path("a"), d);
        startLive(e);
        assertEquals(AccessState.NON_OPTIMIZED, p.accessState());
        assertTrue(p.selectable());

        d.report(AccessState.STANDBY);
        Await.until("path standby", () -> p.accessState() == AccessState.STANDBY);
        assertFalse(p.selectable());
        assertEquals(PathState.LIVE, p.state());

        d.report(AccessState.OPTIMIZED);
        Await.until("path optimized", () -> p.accessState() == AccessState.OPTIMIZED);
        assertTrue(p.selectable());
    }

    @Test
    void requestsAvoidAPathWhoseTargetReportsStandby() throws Exception {
        ReportingDriver standby = new ReportingDriver(rig.fileDriver(img), AccessState.STANDBY);
        ReportingDriver active = new ReportingDriver(rig.fileDriver(img), AccessState.OPTIMIZED);
        Export e = rig.export(fastConfig("avoid").withIoPolicy("round-robin"));
        Path a = add(e, path("a"), standby);
        Path b = add(e, path("b"), active);
        startLive(e);
        TestClient c = new TestClient(e);
        for (int i = 0; i < 8; i++) {
            TestClient.ok(c.read(i * 4096L, 4096));
        }
        assertEquals(0, a.requests());
        assertEquals(8, b.requests());

        standby.report(AccessState.OPTIMIZED);
        Await.until("path a optimized", a::selectable);
        for (int i = 0; i < 8; i++) {
            TestClient.ok(c.read(i * 4096L, 4096));
        }
        assertTrue(a.requests() > 0, "path a carries I/O once its target reports it optimized");
    }

    @Test
    void anOperatorDemotionWinsAndOptimizedHandsBackToTheTarget() throws Exception {
        ReportingDriver d = new ReportingDriver(rig.fileDriver(img), AccessState.OPTIMIZED);
        Export e = rig.export(fastConfig("operator"));
        Path p = add(e, path("a"), d);
        startLive(e);
        assertEquals(AccessState.OPTIMIZED, p.accessState());

        p.accessState(AccessState.STANDBY);
        assertEquals(AccessState.STANDBY, p.accessState());
        d.report(AccessState.NON_OPTIMIZED);
        d.report(AccessState.TRANSITIONING);
        assertEquals(AccessState.STANDBY, p.accessState(), "the operator's standby wins over any target state");

        p.accessState(AccessState.OPTIMIZED);
        assertEquals(AccessState.TRANSITIONING, p.accessState(), "optimized means: follow the target");
        d.report(AccessState.OPTIMIZED);
        assertEquals(AccessState.OPTIMIZED, p.accessState());
    }

    @Test
    void aConfiguredNonOptimizedPathStaysNonOptimizedButFollowsAStandbyTarget() throws Exception {
        ReportingDriver d = new ReportingDriver(rig.fileDriver(img), AccessState.OPTIMIZED);
        Export e = rig.export(fastConfig("configured"));
        Path p = add(e, path("a", 0, AccessState.NON_OPTIMIZED), d);
        startLive(e);
        assertEquals(AccessState.NON_OPTIMIZED, p.accessState());
        d.report(AccessState.STANDBY);
        assertEquals(AccessState.STANDBY, p.accessState());
        d.report(AccessState.OPTIMIZED);
        assertEquals(AccessState.NON_OPTIMIZED, p.accessState());
    }

    @Test
    void reportsOfAnOldSessionAreIgnoredAndANewSessionReportsAfresh() throws Exception {
        ReportingDriver d = new ReportingDriver(rig.fileDriver(img), AccessState.NON_OPTIMIZED);
        Export e = rig.export(fastConfig("old"));
        Path p = add(e, path("a"), d);
        startLive(e);
        ReportingSession first = d.sessions.get(0);
        d.initial = AccessState.OPTIMIZED;
        first.backend().close();
        Await.until("second session live", () -> d.sessions.size() == 2 && p.state() == PathState.LIVE);
        assertEquals(AccessState.OPTIMIZED, p.accessState());
        first.report(AccessState.STANDBY);
        assertEquals(AccessState.OPTIMIZED, p.accessState());
    }

    /** Live, and every reporting session's listener in place (the path registers it right after going live). */
    private void startLive(Export e) throws Exception {
        TestRig.startLive(e);
        for (ReportingDriver d : drivers) {
            Await.until("listener of " + d.displayUri(), () -> !d.sessions.isEmpty()
                    && d.sessions.get(d.sessions.size() - 1).listener != null);
        }
    }

    private Path add(Export e, PathConfig config, ReportingDriver d) {
        drivers.add(d);
        return e.addPath(config, d);
    }

    @Test
    void combinationRules() {
        assertEquals(AccessState.OPTIMIZED,
                PathStateMachine.effectiveAccessState(AccessState.OPTIMIZED, null));
        assertEquals(AccessState.OFFLINE,
                PathStateMachine.effectiveAccessState(AccessState.OFFLINE, AccessState.OPTIMIZED));
        assertEquals(AccessState.UNAVAILABLE,
                PathStateMachine.effectiveAccessState(AccessState.NON_OPTIMIZED, AccessState.UNAVAILABLE));
        assertEquals(AccessState.NON_OPTIMIZED,
                PathStateMachine.effectiveAccessState(AccessState.OPTIMIZED, AccessState.NON_OPTIMIZED));
        assertEquals(AccessState.TRANSITIONING,
                PathStateMachine.effectiveAccessState(AccessState.OPTIMIZED, AccessState.TRANSITIONING));
    }

    /** Fake: a real driver whose sessions also report an access state, changed by the test. */
    private static final class ReportingDriver implements BackendDriver {
        final BackendDriver real;
        final List<ReportingSession> sessions = new CopyOnWriteArrayList<>();
        volatile AccessState initial;

        ReportingDriver(BackendDriver real, AccessState initial) {
            this.real = real;
            this.initial = initial;
        }

        void report(AccessState s) {
            sessions.get(sessions.size() - 1).report(s);
        }

        @Override
        public String displayUri() {
            return "reporting+" + real.displayUri();
        }

        @Override
        public CompletableFuture<BackendSession> connect() {
            return real.connect().thenApply(s -> {
                ReportingSession r = new ReportingSession(s, initial);
                sessions.add(r);
                return r;
            });
        }
    }

    private static final class ReportingSession extends DelegatingSession implements AccessStateSource {
        volatile AccessState state;
        volatile Consumer<AccessState> listener;

        ReportingSession(BackendSession backend, AccessState state) {
            super(backend);
            this.state = state;
        }

        void report(AccessState s) {
            state = s;
            Consumer<AccessState> l = listener;
            if (l != null) {
                l.accept(s);
            }
        }

        @Override
        public AccessState accessState() {
            return state;
        }

        @Override
        public void onAccessStateChange(Consumer<AccessState> l) {
            listener = l;
        }
    }
}
