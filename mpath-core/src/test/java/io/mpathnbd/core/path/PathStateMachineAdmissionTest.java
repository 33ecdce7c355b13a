package io.mpathnbd.core.path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.mpathnbd.core.backend.AccessState;
import io.mpathnbd.core.backend.BackendInfo;
import io.mpathnbd.core.backend.BackendSession;
import io.mpathnbd.core.backend.ControlResult;
import io.mpathnbd.core.backend.DriverOptions;
import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.support.FaultInjectingDriver;
import io.mpathnbd.core.support.TestRig;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A session the export's check accepted runs the export's {@link Admission} before it carries I/O. One real path
 * (its state machine, a file session under a fault-injecting driver) and a host that plays the export: it accepts
 * every session and answers each admission as the test says.
 */
class PathStateMachineAdmissionTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    java.nio.file.Path dir;

    private TestRig rig;
    private FaultInjectingDriver driver;
    private final Host host = new Host();
    private Path path;

    @BeforeEach
    void setUp() throws Exception {
        rig = new TestRig(dir);
        driver = rig.faulty(rig.image("disk.img", 1 << 20));
    }

    @AfterEach
    void tearDown() throws Exception {
        if (path != null) {
            path.shutdown("test over").get(10, TimeUnit.SECONDS);
        }
        rig.close();
    }

    private void start(Duration connectTimeout) {
        PathConfig config = new PathConfig("a", "test:a", 0, AccessState.OPTIMIZED, DriverOptions.defaults()
                .withRequestTimeout(Duration.ofMillis(500)).withConnectTimeout(connectTimeout));
        PathTimings timings = new PathTimings(Duration.ofMillis(10), Duration.ofMillis(40), Duration.ofHours(1),
                false);
        path = new Path("e", "a", config, driver, timings, host, rig.loops().next());
        path.start();
    }

    private void start() {
        start(Duration.ofSeconds(1));
    }

    @Test
    void theSessionCarriesNoIoUntilItsAdmissionSucceeds() throws Exception {
        CompletableFuture<ControlResult<Void>> answer = new CompletableFuture<>();
        host.answer(s -> answer);
        start();
        BackendSession admitted = host.admitted.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertSame(driver.current(), admitted, "the admission runs on the new session");
        assertEquals(PathState.CONNECTING, path.state());
        assertNull(path.session());
        assertFalse(path.selectable());

        answer.complete(ControlResult.ok());
        host.awaitEvent(PathState.LIVE);
        assertSame(admitted, path.session().backend());
        assertTrue(path.selectable());
        assertEquals(1, driver.sessions().size());
    }

    @Test
    void aPathErrorFailsTheAttemptAndTheNextSessionIsAdmittedAfresh() throws Exception {
        host.answer(s -> CompletableFuture.completedFuture(ControlResult.failed(Failure.path("nexus lost"))));
        start();
        PathEvent failed = host.awaitEvent(PathState.FAILED);
        assertTrue(failed.reason().contains("nexus lost"), failed.reason());
        assertTrue(path.lastError().contains("nexus lost"), path.lastError());
        FaultInjectingDriver.FaultySession first = driver.current();
        host.awaitClosed(first);

        host.answer(s -> CompletableFuture.completedFuture(ControlResult.ok()));
        host.awaitEvent(PathState.LIVE);
        assertTrue(driver.sessions().size() >= 2);
        assertSame(driver.current(), path.session().backend());
    }

    @Test
    void aTargetFailureRefusesThePathAndSaysWhy() throws Exception {
        host.answer(s -> CompletableFuture.completedFuture(
                ControlResult.failed(Failure.reservationConflict("RESERVATION CONFLICT"))));
        start();
        PathEvent refused = host.awaitEvent(PathState.REFUSED);
        assertTrue(refused.reason().contains("RESERVATION CONFLICT"), refused.reason());
        assertEquals("refused: RESERVATION CONFLICT", path.lastError());
        host.awaitClosed(driver.current());
        assertFalse(path.selectable());

        host.answer(s -> CompletableFuture.completedFuture(ControlResult.ok()));
        host.awaitEvent(PathState.LIVE); // refused paths are retried, slowly
    }

    @Test
    void anAdmissionThatThrowsRefusesThePath() throws Exception {
        host.answer(s -> {
            throw new IllegalStateException("a bug");
        });
        start();
        PathEvent refused = host.awaitEvent(PathState.REFUSED);
        assertTrue(refused.reason().contains("admission failed") && refused.reason().contains("a bug"),
                refused.reason());
        host.awaitClosed(driver.current());
    }

    @Test
    void anAdmissionThatNeverAnswersIsBoundedByTheConnectGuard() throws Exception {
        host.answer(s -> new CompletableFuture<>());
        start(Duration.ofMillis(100)); // guard: twice the connect timeout plus a second
        long t0 = System.nanoTime();
        PathEvent failed = host.awaitEvent(PathState.FAILED);
        long took = System.nanoTime() - t0;
        assertTrue(failed.reason().startsWith("admission did not complete within"), failed.reason());
        assertTrue(took >= TimeUnit.MILLISECONDS.toNanos(1000), "failed after " + took + " ns");
        host.awaitClosed(driver.sessions().get(0));
    }

    @Test
    void aSessionAbandonedDuringItsAdmissionNeverGoesLive() throws Exception {
        CompletableFuture<ControlResult<Void>> answer = new CompletableFuture<>();
        host.answer(s -> answer);
        start();
        BackendSession admitted = host.admitted.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertSame(driver.current(), admitted);
        path.disable();
        host.awaitEvent(PathState.DISABLED);
        host.awaitClosed(driver.current());

        answer.complete(ControlResult.ok()); // late: ignored
        assertEquals(PathState.DISABLED, path.state());
        assertNull(path.session());
        assertEquals(1, driver.sessions().size());
    }

    /** Plays the export: accepts every session, answers admissions as told, records what happens. */
    private static final class Host implements PathHost {
        final BlockingQueue<PathEvent> events = new LinkedBlockingQueue<>();
        final BlockingQueue<BackendSession> admitted = new LinkedBlockingQueue<>();
        private volatile Function<BackendSession, CompletableFuture<ControlResult<Void>>> answer;

        void answer(Function<BackendSession, CompletableFuture<ControlResult<Void>>> a) {
            answer = a;
        }

        @Override
        public String admit(Path p, BackendInfo info) {
            return null;
        }

        @Override
        public Admission admission(Path p) {
            Function<BackendSession, CompletableFuture<ControlResult<Void>>> a = answer;
            return s -> {
                admitted.add(s);
                return a.apply(s);
            };
        }

        @Override
        public void pathEvent(PathEvent event) {
            events.add(event);
        }

        /** The next event into {@code state}, skipping others; fails after the wait. */
        PathEvent awaitEvent(PathState state) throws InterruptedException {
            long deadline = System.nanoTime() + WAIT.toNanos();
            for (;;) {
                PathEvent e = events.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                if (e == null) {
                    return fail("no event into " + state + " within " + WAIT);
                }
                if (e.to() == state && e.isStateChange()) {
                    return e;
                }
            }
        }

        void awaitClosed(FaultInjectingDriver.FaultySession s) throws Exception {
            s.closeFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
    }
}
