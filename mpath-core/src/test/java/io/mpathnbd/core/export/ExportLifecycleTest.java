package io.mpathnbd.core.export;

import static io.mpathnbd.core.support.TestClient.await;
import static io.mpathnbd.core.support.TestClient.ok;
import static io.mpathnbd.core.support.TestRig.fastConfig;
import static io.mpathnbd.core.support.TestRig.path;
import static io.mpathnbd.testing.peers.Images.pattern;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.BackendException;
import io.mpathnbd.core.backend.BackendInfo;
import io.mpathnbd.core.backend.Capability;
import io.mpathnbd.core.backend.AccessState;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.path.PathState;
import io.mpathnbd.core.request.BlockFlags;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.core.support.Await;
import io.mpathnbd.core.support.FaultInjectingDriver;
import io.mpathnbd.core.support.Outcome;
import io.mpathnbd.core.support.RecordingObserver;
import io.mpathnbd.core.support.TestClient;
import io.mpathnbd.core.support.TestRig;
import java.io.RandomAccessFile;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One export over real file paths (two paths to one image file): I/O, geometry, paths coming and going. */
class ExportLifecycleTest {
    private static final int MIB = 1 << 20;

    @TempDir
    java.nio.file.Path dir;

    private TestRig rig;
    private java.nio.file.Path img;

    @BeforeEach
    void setUp() throws Exception {
        rig = new TestRig(dir);
        img = rig.image("disk.img", 8 * MIB);
    }

    @AfterEach
    void tearDown() throws Exception {
        rig.close();
    }


    private static BackendInfo with(BackendInfo i, int caps, int min, int preferred, int max) {
        return new BackendInfo(i.size(), caps, min, preferred, max, i.identity(), i.description());
    }

    private Export started(Export e) throws Exception {
        e.start().get(10, TimeUnit.SECONDS);
        return e;
    }

    @Test
    void readsAndWritesLandThroughBothPaths() throws Exception {
        Export e = rig.export(fastConfig("rw").withIoPolicy("round-robin"));
        Path p0 = e.addPath(path("a"), rig.fileDriver(img));
        Path p1 = e.addPath(path("b"), rig.fileDriver("file://" + img));
        started(e);
        assertTrue(e.ready());
        assertEquals(8 * MIB, e.size());
        TestClient c = new TestClient(e);
        List<CompletableFuture<Outcome>> writes = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            writes.add(c.write((long) i * 65536, pattern(i, 65536)));
        }
        writes.forEach(TestClient::ok);
        for (int i = 0; i < 16; i++) {
            Outcome r = ok(c.read((long) i * 65536, 65536));
            assertArrayEquals(pattern(i, 65536), r.data());
            assertTrue(r.thread().startsWith("file-io-"), "reply not sent from the backend's thread: " + r.thread());
        }
        ok(c.flush());
        byte[] onDisk = new byte[65536];
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "r")) {
            f.seek(5 * 65536);
            f.readFully(onDisk);
        }
        assertArrayEquals(pattern(5, 65536), onDisk);
        assertTrue(p0.requests() > 0 && p1.requests() > 0, "round-robin used both paths");
        assertEquals(16L * 65536, p0.bytesWritten() + p1.bytesWritten());
        assertEquals(16L * 65536, p0.bytesRead() + p1.bytesRead());
        assertEquals(0, p0.inFlight() + p1.inFlight());
        assertEquals(0, e.failovers());
        c.assertNoDuplicateAnswers();
        c.assertPayloadsReleased();
    }

    @Test
    void clientsSeeOnlyTheConfiguredDescriptionNeverTheBackends() throws Exception {
        Export plain = rig.export(fastConfig("plain"));
        Path p = plain.addPath(path("a"), rig.fileDriver(img));
        started(plain);
        String backend = p.info().description();
        assertTrue(backend != null && backend.contains(img.getFileName().toString()),
                "the operator still sees the backend's description: " + backend);
        assertNull(plain.description(), "an export without a configured description has none");

        Export described = rig.export(fastConfig("described").withDescription("scratch disk"));
        described.addPath(path("a"), rig.fileDriver(img));
        started(described);
        assertEquals("scratch disk", described.description());
    }

    @Test
    void capabilitiesAreTheIntersectionAndBlockSizesTheStrictest() throws Exception {
        Export e = rig.export(fastConfig("caps").withDescription("test disk"));
        e.addPath(path("a"), rig.fileDriver(img));
        FaultInjectingDriver narrow = rig.faulty(img).changeInfo(
                i -> with(i, i.capabilities() & ~Capability.FUA, 512, 65536, MIB));
        e.addPath(path("b"), narrow);
        started(e);
        int caps = e.capabilities();
        assertFalse(Capability.has(caps, Capability.FUA), Capability.describe(caps));
        assertTrue(Capability.has(caps, Capability.FLUSH), Capability.describe(caps));
        assertTrue(Capability.has(caps, Capability.WRITE_ZEROES), Capability.describe(caps));
        assertTrue(Capability.has(caps, Capability.MULTI_CONN), "multi-conn follows flush");
        assertFalse(Capability.has(caps, Capability.READ_ONLY));
        assertEquals(512, e.minBlockSize());
        assertEquals(65536, e.preferredBlockSize());
        assertEquals(MIB, e.maxPayload());
        assertEquals("test disk", e.description());
        assertEquals(e.paths().get(0).info().identity(), e.identity());
    }

    @Test
    void noFlushMeansNoMultiConnAndAReadOnlyPathMakesTheExportReadOnly() throws Exception {
        Export e = rig.export(fastConfig("noflush"));
        e.addPath(path("a"), rig.faulty(img).changeInfo(
                i -> with(i, i.capabilities() & ~Capability.FLUSH, 1, 4096, MIB)));
        e.addPath(path("b"), rig.fileDriver("file:" + img + "?readonly=true"));
        started(e);
        int caps = e.capabilities();
        assertFalse(Capability.has(caps, Capability.FLUSH), Capability.describe(caps));
        assertFalse(Capability.has(caps, Capability.MULTI_CONN), Capability.describe(caps));
        assertTrue(Capability.has(caps, Capability.READ_ONLY), Capability.describe(caps));
    }

    @Test
    void readinessWaitsBrieflyForSlowerPaths() throws Exception {
        Export e = rig.export(fastConfig("grace"));
        e.addPath(path("a"), rig.fileDriver(img));
        // connects 200 ms later, within the grace: its lack of FUA must be part of what is advertised
        e.addPath(path("b"), rig.faulty(img).connectDelay(200)
                .changeInfo(i -> with(i, i.capabilities() & ~Capability.FUA, 1, 4096, MIB)));
        started(e);
        assertFalse(Capability.has(e.capabilities(), Capability.FUA), Capability.describe(e.capabilities()));
        assertEquals(PathState.LIVE, e.path("b").state());
    }

    @Test
    void aPathLackingWhatIsAlreadyAdvertisedIsRefused() throws Exception {
        Export e = rig.export(fastConfig("late"));
        e.addPath(path("a"), rig.fileDriver(img));
        started(e);
        assertTrue(Capability.has(e.capabilities(), Capability.FUA));
        Path noFua = e.addPath(path("b"), rig.faulty(img).changeInfo(
                i -> with(i, i.capabilities() & ~Capability.FUA, 1, 4096, i.maxPayload())));
        Await.until("b refused", () -> noFua.state() == PathState.REFUSED);
        assertTrue(noFua.lastError().contains("fua"), noFua.lastError());
        Path smaller = e.addPath(path("c"), rig.faulty(img).changeInfo(
                i -> with(i, i.capabilities(), 1, 4096, 4096)));
        Await.until("c refused", () -> smaller.state() == PathState.REFUSED);
        assertTrue(smaller.lastError().contains("maximum payload 4096"), smaller.lastError());
        assertFalse(noFua.selectable());
        TestClient c = new TestClient(e);
        ok(c.read(0, 4096));
        assertEquals(0, noFua.requests() + smaller.requests());
    }

    @Test
    void aDifferentDiskIsRefusedBySizeOrIdentity() throws Exception {
        Export e = rig.export(fastConfig("identity"));
        // the first path admitted defines the disk: let a connect first
        Path a = e.addPath(path("a"), rig.fileDriver(img));
        started(e);
        Path other = e.addPath(path("size"), rig.fileDriver(rig.image("small.img", 4 * MIB)));
        Path stranger = e.addPath(path("id"), rig.faulty(img).changeInfo(i -> new BackendInfo(i.size(),
                i.capabilities(), 1, 4096, i.maxPayload(), "file:(dev=1,ino=2)", null)));
        Await.until("both refused", () -> other.state() == PathState.REFUSED
                && stranger.state() == PathState.REFUSED);
        assertEquals(PathState.LIVE, a.state());
        assertTrue(other.lastError().contains("4194304") && other.lastError().contains("8388608"),
                other.lastError());
        assertTrue(stranger.lastError().contains("file:(dev=1,ino=2)")
                && stranger.lastError().contains(a.info().identity()), stranger.lastError());
        assertEquals(8 * MIB, e.size());
    }

    @Test
    void aPathThatComesBackToADifferentDiskIsRefused() throws Exception {
        RecordingObserver obs = new RecordingObserver();
        Export e = rig.export(fastConfig("restart"), obs);
        e.addPath(path("a"), rig.fileDriver(img));
        FaultInjectingDriver fb = rig.faulty(img);
        Path b = e.addPath(path("b"), fb);
        started(e);
        Await.until("b live", () -> b.state() == PathState.LIVE);
        // the backend behind b restarts serving a bigger image
        fb.changeInfo(i -> new BackendInfo(i.size() * 2, i.capabilities(), 1, 4096, i.maxPayload(), i.identity(),
                null));
        fb.dropSession("test: backend restarted");
        Await.until("b refused", () -> b.state() == PathState.REFUSED);
        assertTrue(b.lastError().contains("16777216") && b.lastError().contains("8388608"), b.lastError());
        Await.until(() -> "observer told of the refusal: " + obs.transitions, Duration.ofSeconds(10),
                () -> obs.transitions.stream().anyMatch(t -> t.startsWith("b CONNECTING->REFUSED")));
        TestClient c = new TestClient(e);
        ok(c.read(0, 512));
        assertEquals(0, b.inFlight());
    }

    @Test
    void aConfiguredIdentityRefusesEveryOtherDisk() throws Exception {
        Export e = rig.export(fastConfig("expected").withExpectedIdentity("wwn-0x5000"));
        Path a = e.addPath(path("a"), rig.fileDriver(img));
        e.start();
        Await.until("a refused", () -> a.state() == PathState.REFUSED);
        assertTrue(a.lastError().contains("wwn-0x5000"), a.lastError());
        assertFalse(e.ready());
    }

    @Test
    void aConfigurationErrorRefusesThePath() throws Exception {
        Export e = rig.export(fastConfig("cfg"));
        e.addPath(path("a"), rig.fileDriver(img));
        Path bad = e.addPath(path("b"), rig.faulty(img)
                .refuseConnects(new BackendException("no such export 'nope'", true, null)));
        started(e);
        Await.until("b refused", () -> bad.state() == PathState.REFUSED);
        assertTrue(bad.lastError().contains("no such export"), bad.lastError());
        Path missing = e.addPath(path("c"), rig.fileDriver(dir.resolve("missing.img")));
        Await.until("c refused", () -> missing.state() == PathState.REFUSED);
    }

    @Test
    void pathsAreAddedAndRemovedAtRunTime() throws Exception {
        RecordingObserver obs = new RecordingObserver();
        Export e = rig.export(fastConfig("runtime"), obs);
        Path a = e.addPath(path("a"), rig.fileDriver(img));
        started(e);
        Path b = e.addPath(path(null), rig.fileDriver(img));
        assertEquals("p0", b.id());
        Await.until("b live", () -> b.state() == PathState.LIVE);
        assertThrows(IllegalArgumentException.class, () -> e.addPath(path("a"), rig.fileDriver(img)));
        TestClient c = new TestClient(e);
        ok(c.write(0, pattern(1, 4096)));
        e.removePath("a").get(5, TimeUnit.SECONDS);
        assertEquals(PathState.REMOVED, a.state());
        assertEquals(List.of(b), e.paths());
        assertNull(e.path("a"));
        assertEquals(List.of("a"), obs.removed);
        assertEquals(List.of("a", "p0"), obs.added);
        long before = b.requests();
        assertArrayEquals(pattern(1, 4096), ok(c.read(0, 4096)).data());
        assertEquals(before + 1, b.requests());
        assertThrows(IllegalArgumentException.class, () -> e.removePath("a"));
        c.assertPayloadsReleased();
    }

    @Test
    void removalDelayHoldsIoForANewPath() throws Exception {
        Export e = rig.export(fastConfig("delay").withRemovalDelay(Duration.ofMillis(300)));
        e.addPath(path("a"), rig.fileDriver(img));
        started(e);
        TestClient c = new TestClient(e);
        ok(c.write(4096, pattern(9, 4096)));
        e.removePath("a").get(5, TimeUnit.SECONDS);
        CompletableFuture<Outcome> held = c.read(4096, 4096);
        Await.until("read held", () -> e.held() == 1);
        e.addPath(path("b"), rig.fileDriver(img));
        assertArrayEquals(pattern(9, 4096), ok(held).data());

        // and when no path comes within the delay, held I/O fails
        e.removePath("b").get(5, TimeUnit.SECONDS);
        long t0 = System.nanoTime();
        CompletableFuture<Outcome> doomed = c.write(0, pattern(3, 512));
        Outcome o = await(doomed);
        long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertFalse(o.ok());
        assertEquals(Errno.EIO, o.errno());
        assertTrue(waited >= 250 && waited < 4000, "failed after " + waited + " ms");
        assertTrue(o.message().contains("none can come back"), o.message());
        c.assertPayloadsReleased();
    }

    @Test
    void closeFailsHeldRequestsWithEshutdown() throws Exception {
        Export e = rig.export(fastConfig("close"));
        FaultInjectingDriver f = rig.faulty(img);
        Path a = e.addPath(path("a"), f);
        started(e);
        f.refuseConnects(new BackendException("injected: connection refused"));
        f.dropSession("test: gone");
        Await.until("a down", () -> a.state() != PathState.LIVE);
        TestClient c = new TestClient(e);
        CompletableFuture<Outcome> w = c.write(0, pattern(1, 512));
        Await.until("held", () -> e.held() == 1);
        e.close().get(5, TimeUnit.SECONDS);
        assertEquals(Errno.ESHUTDOWN, await(w).errno());
        assertEquals(Errno.ESHUTDOWN, await(c.read(0, 512)).errno());
        assertEquals(PathState.REMOVED, a.state());
        assertTrue(e.paths().isEmpty());
        assertTrue(f.isShutdown());
        c.assertPayloadsReleased();
    }

    @Test
    void blockStatusWithoutBackendSupportIsAllData() throws Exception {
        Export e = rig.export(fastConfig("status"));
        e.addPath(path("a"), rig.fileDriver(img));
        started(e);
        TestClient c = new TestClient(e);
        Outcome o = ok(c.submit(BlockOp.BLOCK_STATUS, BlockFlags.REQ_ONE, 8192, 65536, null));
        assertEquals(1, o.extents().count());
        assertEquals(65536, o.extents().length(0));
        assertEquals(0, o.extents().flags(0));
    }

    @Test
    void ioPolicyIsSwitchableAtRunTime() throws Exception {
        Export e = rig.export(fastConfig("policy"));
        assertEquals("numa", e.ioPolicy());
        e.ioPolicy("queue-depth");
        assertEquals("queue-depth", e.ioPolicy());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> e.ioPolicy("fastest"));
        assertTrue(bad.getMessage().contains("round-robin") && bad.getMessage().contains("service-time"),
                bad.getMessage());
        assertEquals("queue-depth", e.ioPolicy());
        assertThrows(IllegalArgumentException.class,
                () -> rig.export(fastConfig("bad").withIoPolicy("nope")));
    }

    @Test
    void standbyPathsCarryNoIo() throws Exception {
        Export e = rig.export(fastConfig("standby"));
        Path standby = e.addPath(path("s", 0, AccessState.STANDBY), rig.fileDriver(img));
        Path live = e.addPath(path("o", 5, AccessState.OPTIMIZED), rig.fileDriver(img));
        started(e);
        Await.until("both live", () -> standby.state() == PathState.LIVE && live.state() == PathState.LIVE);
        TestClient c = new TestClient(e);
        for (int i = 0; i < 5; i++) {
            ok(c.read(0, 512));
        }
        assertEquals(0, standby.requests());
        assertEquals(5, live.requests());
    }
}
