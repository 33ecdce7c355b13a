package io.mpathnbd.nbd.backend;

import static io.mpathnbd.nbd.backend.BackendHarness.read;
import static io.mpathnbd.nbd.backend.BackendHarness.run;
import static io.mpathnbd.nbd.backend.BackendHarness.submit;
import static io.mpathnbd.nbd.backend.BackendHarness.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.DriverOptions;
import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.backend.FailureKind;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.core.support.BackendCalls.Recorder;
import io.mpathnbd.testing.peers.Images;
import io.mpathnbd.testing.peers.NbdServer;
import io.mpathnbd.testing.peers.Nbdkit;
import io.mpathnbd.testing.peers.Tools;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** How server errors, hung servers and dead servers surface: as PATH, TARGET or TIMEOUT failures. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NbdBackendFailureTest {
    private static final long SIZE = 16L << 20;
    private static final Duration REQUEST_TIMEOUT = Duration.ofMillis(500);
    /** Generous slack for a loaded 2-core machine; the check itself runs every requestTimeout/4. */
    private static final long MARGIN_MS = 2000;

    @TempDir
    Path tmp;

    private final BackendHarness harness = new BackendHarness();

    @BeforeAll
    static void tools() {
        Tools.require("nbdkit", "nbd-server");
    }

    @AfterEach
    void tearDown() {
        harness.close();
    }

    @Test
    void eioIsAPathFailureAndTheSessionStays() throws Exception {
        Path inject = tmp.resolve("inject-eio");
        try (Nbdkit kit = Nbdkit.builder().dir(tmp).error("EIO", "100%", inject).memory(SIZE).start()) {
            NbdSession s = harness.connect(kit.uri());
            Files.createFile(inject);
            Failure f = run(s, BlockOp.READ, 0, 0, 4096).assertFailed();
            assertEquals(FailureKind.PATH, f.kind(), f.toString());
            assertEquals(Errno.EIO, f.errno());
            Failure w = write(s, 0, 0, new byte[4096]).assertFailed();
            assertEquals(FailureKind.PATH, w.kind(), w.toString());
            Files.delete(inject);
            read(s, 0, 4096);
            assertNull(s.lossReason(), "an error reply does not end the session");
            assertFalse(s.closeFuture().isDone());
        }
    }

    @Test
    void eioInASimpleReplyIsAPathFailure() throws Exception {
        Path inject = tmp.resolve("inject-eio");
        try (Nbdkit kit = Nbdkit.builder().dir(tmp).noStructuredReplies().error("EIO", "100%", inject)
                .memory(SIZE).start()) {
            NbdSession s = harness.connect(kit.uri());
            Files.createFile(inject);
            Failure f = run(s, BlockOp.READ, 0, 0, 4096).assertFailed();
            assertEquals(FailureKind.PATH, f.kind(), f.toString());
            Files.delete(inject);
            read(s, 0, 4096);
        }
    }

    @Test
    void requestErrorsGoToTheClientWithTheirErrno() {
        try (Nbdkit kit = Nbdkit.builder().dir(tmp)
                .errorFor("pwrite", "ENOSPC", "100%", null)
                .errorFor("pread", "EINVAL", "100%", null)
                .errorFor("trim", "EPERM", "100%", null)
                .memory(SIZE).start()) {
            NbdSession s = harness.connect(kit.uri());
            Failure w = write(s, 0, 0, new byte[4096]).assertFailed();
            assertEquals(FailureKind.TARGET, w.kind(), w.toString());
            assertEquals(Errno.ENOSPC, w.errno());
            Failure r = run(s, BlockOp.READ, 0, 0, 4096).assertFailed();
            assertEquals(FailureKind.TARGET, r.kind(), r.toString());
            assertEquals(Errno.EINVAL, r.errno());
            Failure t = run(s, BlockOp.TRIM, 0, 0, 4096).assertFailed();
            assertEquals(FailureKind.TARGET, t.kind(), t.toString());
            assertEquals(Errno.EPERM, t.errno());
            run(s, BlockOp.FLUSH, 0, 0, 0).assertOk();
            assertNull(s.lossReason());
        }
    }

    @Test
    void hungServerFailsEveryRequestWithTimeoutAndClosesTheSession() throws Exception {
        try (Nbdkit kit = Nbdkit.builder().dir(tmp).pause().memory(SIZE).start()) {
            NbdSession s = harness.connect(kit.uri(), DriverOptions.defaults().withRequestTimeout(REQUEST_TIMEOUT));
            read(s, 0, 4096);
            kit.pause();
            long start = System.nanoTime();
            List<Recorder> rs = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                rs.add(submit(s, BlockOp.READ, 0, i * 4096L, 4096, null));
            }
            ByteBuf payload = PooledByteBufAllocator.DEFAULT.buffer(4096).writeZero(4096);
            rs.add(submit(s, BlockOp.WRITE, 0, 0, 4096, payload));
            for (Recorder r : rs) {
                Failure f = r.await().assertFailed();
                assertEquals(FailureKind.TIMEOUT, f.kind(), f.toString());
            }
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(tookMs >= REQUEST_TIMEOUT.toMillis(), "timed out early, after " + tookMs + " ms");
            assertTrue(tookMs < REQUEST_TIMEOUT.toMillis() + MARGIN_MS, "timed out late, after " + tookMs + " ms");
            s.closeFuture().get(MARGIN_MS, TimeUnit.MILLISECONDS);
            assertTrue(s.lossReason().contains("timeout"), s.lossReason());
            assertEquals(1, payload.refCnt(), "the request's payload reference is untouched");
            payload.release();

            Failure after = run(s, BlockOp.READ, 0, 0, 4096).assertFailed();
            assertEquals(FailureKind.PATH, after.kind(), "a request after the end never reached the server");
            kit.resume();
        }
    }

    @Test
    void killedServerFailsInFlightRequestsAsPathErrors() throws Exception {
        try (Nbdkit kit = Nbdkit.builder().dir(tmp).delay(Duration.ofSeconds(5), null).memory(SIZE).start()) {
            NbdSession s = harness.connect(kit.uri());
            List<Recorder> rs = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                rs.add(submit(s, BlockOp.READ, 0, 0, 4096, null));
            }
            awaitInFlight(s, 8);
            kit.kill();
            for (Recorder r : rs) {
                Failure f = r.await().assertFailed();
                assertEquals(FailureKind.PATH, f.kind(), f.toString());
            }
            s.closeFuture().get(10, TimeUnit.SECONDS);
            assertNotNull(s.lossReason());
            assertEquals(FailureKind.PATH, run(s, BlockOp.READ, 0, 0, 4096).assertFailed().kind());
        }
    }

    @Test
    void killedNbdServerChildEndsTheSession() throws Exception {
        Path image = Images.sparse(tmp, "disk.img", SIZE);
        try (NbdServer server = NbdServer.start(tmp, "disk", image)) {
            NbdSession s = harness.connect(server.uri());
            read(s, 0, 4096);
            server.kill();
            s.closeFuture().get(10, TimeUnit.SECONDS);
            assertNotNull(s.lossReason());
            assertEquals(FailureKind.PATH, run(s, BlockOp.READ, 0, 0, 4096).assertFailed().kind());
        }
    }

    @Test
    void probeWorksAndFailsOnADeadServer() {
        try (Nbdkit kit = Nbdkit.builder().dir(tmp).memory(SIZE).start()) {
            NbdSession s = harness.connect(kit.uri());
            BackendHarness.get(s.probe());
            kit.kill();
            assertProbeFails(s);
        }
    }

    @Test
    void probeFailsOnAHungServerWithinTheRequestTimeout() {
        try (Nbdkit kit = Nbdkit.builder().dir(tmp).memory(SIZE).start()) {
            NbdSession s = harness.connect(kit.uri(), DriverOptions.defaults().withRequestTimeout(REQUEST_TIMEOUT));
            BackendHarness.get(s.probe());
            kit.stop();
            long start = System.nanoTime();
            assertProbeFails(s);
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(tookMs < REQUEST_TIMEOUT.toMillis() + MARGIN_MS, "probe gave up after " + tookMs + " ms");
            kit.cont();
        }
    }

    @Test
    void closeFailsInFlightRequestsAndCompletesWhenTheSocketsAreClosed() throws Exception {
        try (Nbdkit kit = Nbdkit.builder().dir(tmp).delay(Duration.ofSeconds(5), null).memory(SIZE).start()) {
            NbdSession s = harness.connect(kit.uri(), DriverOptions.defaults().withConnections(2));
            List<Recorder> rs = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                rs.add(submit(s, BlockOp.READ, 0, 0, 4096, null));
            }
            awaitInFlight(s, 4);
            s.close().get(10, TimeUnit.SECONDS);
            for (int i = 0; i < s.connectionCount(); i++) {
                assertFalse(s.connection(i).channel().isOpen(), "every socket is closed when close() completes");
            }
            for (Recorder r : rs) {
                Failure f = r.await().assertFailed();
                assertEquals(FailureKind.PATH, f.kind());
                assertTrue(f.message().contains("session closed"), f.message());
            }
            assertTrue(s.closeFuture().isDone());
            assertNull(s.lossReason(), "an orderly close is not a loss");
        }
    }

    private static void assertProbeFails(NbdSession s) {
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> s.probe().get(REQUEST_TIMEOUT.toMillis() + MARGIN_MS + 5000, TimeUnit.MILLISECONDS));
        assertNotNull(e.getCause());
    }

    private static void awaitInFlight(NbdSession s, int total) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (java.util.Arrays.stream(s.inFlightPerConnection()).sum() < total) {
            assertTrue(System.nanoTime() < deadline, "requests did not reach the connections");
            Thread.onSpinWait();
        }
    }
}
