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
import io.mpathnbd.core.backend.ControlResult;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.core.support.FaultInjectingDriver;
import io.mpathnbd.core.support.FaultInjectingDriver.Action;
import io.mpathnbd.core.support.Outcome;
import io.mpathnbd.core.support.TestClient;
import io.mpathnbd.core.support.TestRig;
import io.mpathnbd.core.zone.Zone;
import io.mpathnbd.core.zone.ZoneAction;
import io.mpathnbd.core.zone.ZoneCondition;
import io.mpathnbd.core.zone.ZoneError;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writes through a zoned export of two paths (a nearer, so it carries I/O) to one emulated zoned file, reached the
 * second time through a symbolic link: 8 zones of 64 KiB, zone 0 conventional. The faults act on real sessions: a
 * write is lost before the disk, or the disk takes it (whole or half) and the answer is lost.
 */
class ZonedWritesTest {
    private static final int KIB = 1024;
    private static final int ZONE = 64 * KIB;

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
        img = rig.image("z.img", 8 * ZONE);
        java.nio.file.Path link = Files.createSymbolicLink(dir.resolve("z-link.img"), img);
        e = rig.export(fastConfig("zw"));
        fa = rig.faulty(uri(img));
        fb = rig.faulty(uri(link));
        a = e.addPath(path("a", 1, AccessState.OPTIMIZED), fa);
        e.addPath(path("b", 2, AccessState.OPTIMIZED), fb);
        TestRig.startLive(e);
        c = new TestClient(e);
    }

    private static String uri(java.nio.file.Path p) {
        return "file:" + p.toAbsolutePath() + "?zone-size=64KiB&conventional=1";
    }

    @AfterEach
    void tearDown() {
        c.assertNoDuplicateAnswers();
        rig.close();
        c.assertPayloadsReleased();
    }

    private long writesServed() {
        return fa.servedCount(BlockOp.WRITE) + fb.servedCount(BlockOp.WRITE);
    }

    private byte[] read(long offset, int length) {
        return ok(c.read(offset, length)).data();
    }

    @Test
    void aWriteBehindTheWritePointerIsRefusedBeforeAnyBackend() {
        ok(c.write(ZONE, pattern(1, 8192)));
        ok(c.write(ZONE + 8192, pattern(2, 8192)));
        long served = writesServed();
        Outcome behind = await(c.write(ZONE, pattern(3, 4096)));
        assertFalse(behind.ok());
        assertEquals(Errno.EIO, behind.errno());
        assertTrue(behind.message().contains("unaligned write: zone 1 write pointer is at 81920, the write starts at "
                + ZONE), behind.message());
        Outcome ahead = await(c.write(ZONE + 32768, pattern(4, 4096)));
        assertFalse(ahead.ok());
        assertEquals(served, writesServed(), "a refused write reached a backend");
        assertEquals(2, e.unalignedWriteRefusals());
        assertArrayEquals(pattern(2, 8192), read(ZONE + 8192, 8192));
    }

    @Test
    void manyWritesInFlightToOneZoneLandInOrder() {
        // all 32 are submitted before the first is answered: without the plug the emulator's threads reorder them
        List<CompletableFuture<Outcome>> writes = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            writes.add(c.write(2 * ZONE + i * 2048L, pattern(100 + i, 2048)));
        }
        for (CompletableFuture<Outcome> w : writes) {
            ok(w);
        }
        for (int i = 0; i < 32; i++) {
            assertArrayEquals(pattern(100 + i, 2048), read(2 * ZONE + i * 2048L, 2048), "chunk " + i);
        }
        ok(c.write(2 * ZONE + 32 * 2048L, pattern(7, 512))); // the cached pointer followed every write
    }

    @Test
    void aConventionalZoneIsNotPlugged() {
        ok(c.write(8192, pattern(1, 4096)));
        ok(c.write(0, pattern(2, 4096))); // anywhere, in any order
        assertArrayEquals(pattern(2, 4096), read(0, 4096));
    }

    @Test
    void aWriteLostBeforeTheDiskIsSentAgain() {
        ok(c.write(3 * ZONE, pattern(1, 4096)));
        fa.failNext(BlockOp.WRITE, Action.PATH);
        ok(c.write(3 * ZONE + 4096, pattern(2, 4096)));
        assertArrayEquals(pattern(2, 4096), read(3 * ZONE + 4096, 4096));
        ok(c.write(3 * ZONE + 8192, pattern(3, 4096)));
    }

    @Test
    void aWriteThatLandedIsNotSentAgain() {
        ok(c.write(4 * ZONE, pattern(1, 4096)));
        long before = writesServed();
        fa.failNext(BlockOp.WRITE, Action.LANDED_THEN_PATH);
        Outcome o = ok(c.write(4 * ZONE + 4096, pattern(2, 4096)));
        assertTrue(o.ok());
        assertEquals(before + 1, writesServed(), "a write that landed was sent again");
        assertArrayEquals(pattern(2, 4096), read(4 * ZONE + 4096, 4096));
        ok(c.write(4 * ZONE + 8192, pattern(3, 4096)));
        assertArrayEquals(pattern(3, 4096), read(4 * ZONE + 8192, 4096));
    }

    @Test
    void aWriteThatLandedInPartSendsOnlyTheRest() {
        long before = writesServed();
        fa.failNext(BlockOp.WRITE, Action.HALF_THEN_PATH);
        byte[] data = pattern(5, 8192);
        ok(c.write(5 * ZONE, data));
        assertEquals(before + 2, writesServed(), "the half, then the rest");
        assertArrayEquals(data, read(5 * ZONE, 8192));
        ok(c.write(5 * ZONE + 8192, pattern(6, 512)));
        assertArrayEquals(new byte[ZONE - 8192 - 512], read(5 * ZONE + 8192 + 512, ZONE - 8192 - 512));
    }

    @Test
    void writesQueuedBehindALostOneStayInOrder() {
        fa.failNext(BlockOp.WRITE, Action.LANDED_THEN_PATH);
        List<CompletableFuture<Outcome>> writes = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            writes.add(c.write(6 * ZONE + i * 4096L, pattern(200 + i, 4096)));
        }
        for (CompletableFuture<Outcome> w : writes) {
            ok(w);
        }
        byte[] all = read(6 * ZONE, 8 * 4096);
        for (int i = 0; i < 8; i++) {
            assertArrayEquals(pattern(200 + i, 4096), Arrays.copyOfRange(all, i * 4096, (i + 1) * 4096), "chunk " + i);
        }
        assertTrue(a.requests() > 0);
    }

    @Test
    void aResetEmptiesTheZoneAndTheNextWriteStartsOver() throws Exception {
        ok(c.write(7 * ZONE, pattern(1, 8192)));
        ControlResult<Void> r = e.zoneControl().manage(ZoneAction.RESET, 7 * ZONE, 1).get(10, TimeUnit.SECONDS);
        assertTrue(r.succeeded(), r.toString());
        assertEquals(1, e.zoneControl().resets());
        assertArrayEquals(new byte[8192], read(7 * ZONE, 8192));
        ok(c.write(7 * ZONE, pattern(2, 4096))); // the cached pointer was doubted, read again: at the start
        List<Zone> zones = e.zoneControl().report(7 * ZONE, ZONE).get(10, TimeUnit.SECONDS).value();
        assertEquals(1, zones.size());
        assertEquals(7 * ZONE + 4096, zones.get(0).writePointer());
        assertEquals(ZoneCondition.IMPLICIT_OPEN, zones.get(0).condition());
    }

    @Test
    void badZoneCommandsAreRefusedAndChangeNothing() throws Exception {
        ok(c.write(3 * ZONE, pattern(1, 4096)));
        ControlResult<Void> notStart = e.zoneControl().manage(ZoneAction.RESET, 3 * ZONE + 512, 1)
                .get(10, TimeUnit.SECONDS);
        assertEquals(ZoneError.INVALID_REQUEST, notStart.failure().zoneError());
        assertTrue(notStart.failure().message().contains("is not a zone start"), notStart.toString());
        ControlResult<Void> tooMany = e.zoneControl().manage(ZoneAction.RESET, 3 * ZONE, 6).get(10, TimeUnit.SECONDS);
        assertTrue(tooMany.failure().message().contains("count 6 from zone 3 is not within the 8 zones"),
                tooMany.toString());
        ControlResult<List<Zone>> beyond = e.zoneControl().report(8L * ZONE, ZONE).get(10, TimeUnit.SECONDS);
        assertEquals(ZoneError.INVALID_REQUEST, beyond.failure().zoneError());
        assertEquals(0, e.zoneControl().resets());
        assertArrayEquals(pattern(1, 4096), read(3 * ZONE, 4096));
    }

    @Test
    void aTrimOfAWholeZoneIsNoResetWithoutTheOption() {
        assertFalse(io.mpathnbd.core.backend.Capability.has(e.capabilities(),
                io.mpathnbd.core.backend.Capability.TRIM), "the zoned file has no TRIM; the export must not offer it");
    }

    @Test
    void withTrimResetsZonesATrimOfOneWholeZoneResetsIt() throws Exception {
        Export t = rig.export(fastConfig("trim").withTrimResetsZones(true));
        java.nio.file.Path img = dir.resolve("t.img");
        rig.image("t.img", 8 * ZONE);
        t.addPath(path("a"), rig.fileDriver("file:" + img + "?zone-size=64KiB&conventional=1"));
        TestRig.startLive(t);
        assertTrue(io.mpathnbd.core.backend.Capability.has(t.capabilities(),
                io.mpathnbd.core.backend.Capability.TRIM));
        TestClient tc = new TestClient(t);
        ok(tc.write(2 * ZONE, pattern(1, 8192)));
        ok(tc.submit(BlockOp.TRIM, 0, 2 * ZONE + 4096, 4096, null)); // part of a zone: a hint, nothing changes
        ok(tc.submit(BlockOp.TRIM, 0, 0, ZONE, null)); // the conventional zone: nothing to reset
        assertArrayEquals(pattern(1, 8192), ok(tc.read(2 * ZONE, 8192)).data());
        ok(tc.write(2 * ZONE + 8192, pattern(2, 4096)));
        ok(tc.submit(BlockOp.TRIM, 0, 2 * ZONE, ZONE, null)); // exactly the zone, behind the write: reset
        assertArrayEquals(new byte[12288], ok(tc.read(2 * ZONE, 12288)).data());
        ok(tc.write(2 * ZONE, pattern(3, 4096))); // at the start again
        assertEquals(1, t.zoneControl().resets());
        tc.assertNoDuplicateAnswers();
    }

    @Test
    void aResetWaitsForTheWritesSentBeforeItAndGoesBeforeThoseAfter() throws Exception {
        List<CompletableFuture<Outcome>> before = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            before.add(c.write(6 * ZONE + i * 4096L, pattern(300 + i, 4096)));
        }
        CompletableFuture<ControlResult<Void>> reset = e.zoneControl().manage(ZoneAction.RESET, 6 * ZONE, 1);
        CompletableFuture<Outcome> after = c.write(6 * ZONE, pattern(400, 4096)); // at the start: after the reset
        for (CompletableFuture<Outcome> w : before) {
            ok(w);
        }
        assertTrue(reset.get(10, TimeUnit.SECONDS).succeeded());
        ok(after);
        assertArrayEquals(pattern(400, 4096), read(6 * ZONE, 4096));
        assertArrayEquals(new byte[4096], read(6 * ZONE + 4096, 4096));
    }

    @Test
    void aResetOfAllZonesWaitsForTheWritesSentBeforeItInEveryZone() throws Exception {
        List<CompletableFuture<Outcome>> before = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            before.add(c.write(4 * ZONE + i * 4096L, pattern(500 + i, 4096)));
            before.add(c.write(5 * ZONE + i * 4096L, pattern(600 + i, 4096)));
        }
        CompletableFuture<ControlResult<Void>> reset = e.zoneControl().manageAll(ZoneAction.RESET);
        CompletableFuture<Outcome> after4 = c.write(4 * ZONE, pattern(700, 4096)); // at the starts: after the reset
        CompletableFuture<Outcome> after5 = c.write(5 * ZONE, pattern(701, 4096));
        for (CompletableFuture<Outcome> w : before) {
            ok(w);
        }
        assertTrue(reset.get(10, TimeUnit.SECONDS).succeeded());
        ok(after4);
        ok(after5);
        assertArrayEquals(pattern(700, 4096), read(4 * ZONE, 4096));
        assertArrayEquals(new byte[4096], read(4 * ZONE + 4096, 4096));
        assertArrayEquals(pattern(701, 4096), read(5 * ZONE, 4096));
        assertArrayEquals(new byte[4096], read(5 * ZONE + 4096, 4096));
        ok(c.write(5 * ZONE + 4096, pattern(702, 512))); // the pointers were read again after the reset
    }
}
