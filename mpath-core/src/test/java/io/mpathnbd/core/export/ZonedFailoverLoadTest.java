package io.mpathnbd.core.export;

import static io.mpathnbd.core.support.TestClient.await;
import static io.mpathnbd.core.support.TestRig.fastConfig;
import static io.mpathnbd.core.support.TestRig.path;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.AccessState;
import io.mpathnbd.core.path.PathState;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.support.Await;
import io.mpathnbd.core.support.FaultInjectingDriver;
import io.mpathnbd.core.support.FaultInjectingDriver.Action;
import io.mpathnbd.core.support.Outcome;
import io.mpathnbd.core.support.TestClient;
import io.mpathnbd.core.support.TestRig;
import io.mpathnbd.core.zone.Zone;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ordering under load and failover: six writers, each a sequential stream into its own zone with up to four writes
 * in flight, through a two-path zoned export over one emulated zoned file, while both paths keep losing writes: lost
 * before the disk, taken by the disk (whole or half) with the answer lost, and sessions cut. Afterwards every zone's
 * write pointer and content are exactly what the clients were told succeeded, and every write succeeded (the
 * gateway caused no unaligned write). Without the per-zone plug the pipelined writes are refused as unaligned;
 * without the write-pointer read after a path error a landed write is sent again and refused.
 */
class ZonedFailoverLoadTest {
    private static final int KIB = 1024;
    private static final int ZONE = 256 * KIB;
    private static final int CHUNK = 4 * KIB;
    private static final int WRITERS = 6;
    private static final int DEPTH = 4;
    private static final Duration EVENT = Duration.ofSeconds(30);

    @TempDir
    java.nio.file.Path dir;

    private TestRig rig;
    private FaultInjectingDriver fa;
    private FaultInjectingDriver fb;
    private Export e;
    private TestClient c;

    @BeforeEach
    void setUp() throws Exception {
        rig = new TestRig(dir);
        java.nio.file.Path img = rig.image("z.img", 8 * ZONE);
        java.nio.file.Path link = Files.createSymbolicLink(dir.resolve("z-link.img"), img);
        e = rig.export(fastConfig("zload").withMaxRetries(64).withNoPathTimeout(Duration.ofSeconds(30)));
        fa = rig.faulty("file:" + img + "?zone-size=256KiB&conventional=1");
        fb = rig.faulty("file:" + link + "?zone-size=256KiB&conventional=1");
        e.addPath(path("a", 1, AccessState.OPTIMIZED), fa);
        e.addPath(path("b", 2, AccessState.OPTIMIZED), fb);
        TestRig.startLive(e);
        c = new TestClient(e);
    }

    @AfterEach
    void tearDown() {
        c.assertNoDuplicateAnswers();
        rig.close();
        c.assertPayloadsReleased();
    }

    private static byte[] chunk(int zone, int i) {
        byte[] b = new byte[CHUNK];
        for (int k = 0; k < CHUNK; k++) {
            b[k] = (byte) (zone * 31 + i * 7 + k / 512);
        }
        return b;
    }

    @Test
    void everyZoneHoldsExactlyWhatSucceeded() throws Exception {
        int perZone = ZONE / CHUNK;
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicBoolean writing = new AtomicBoolean(true);
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
            int zone = w + 1;
            Thread t = new Thread(() -> {
                Semaphore depth = new Semaphore(DEPTH);
                List<CompletableFuture<Outcome>> all = new ArrayList<>();
                for (int i = 0; i < perZone; i++) {
                    depth.acquireUninterruptibly();
                    CompletableFuture<Outcome> f = c.write((long) zone * ZONE + (long) i * CHUNK, chunk(zone, i));
                    f.whenComplete((o, x) -> depth.release());
                    all.add(f);
                }
                for (int i = 0; i < all.size(); i++) {
                    Outcome o = await(all.get(i), EVENT);
                    if (!o.ok()) {
                        failures.add("zone " + zone + " write " + i + ": errno " + o.errno() + ": " + o.message());
                    }
                }
            }, "zone-writer-" + zone);
            writers.add(t);
            t.start();
        }
        Thread chaos = new Thread(() -> {
            Random rnd = new Random(15);
            Action[] actions = {Action.LANDED_THEN_PATH, Action.HALF_THEN_PATH, Action.PATH};
            int round = 0;
            while (writing.get()) {
                FaultInjectingDriver d = round % 3 == 2 ? fb : fa;
                io.mpathnbd.core.path.Path p = e.path(d == fa ? "a" : "b");
                if (round % 5 == 4) {
                    d.dropSession("test: cut");
                } else {
                    d.failNext(BlockOp.WRITE, actions[rnd.nextInt(actions.length)]);
                }
                round++;
                int done = round;
                // the next fault once this one has played out: the path back and carrying writes again
                long served = d.servedCount(BlockOp.WRITE);
                Await.until(() -> "path " + p.id() + " back after round " + done, EVENT, () -> !writing.get()
                        || p.state() == PathState.LIVE && d.servedCount(BlockOp.WRITE) > served);
            }
        }, "zone-chaos");
        chaos.start();
        for (Thread t : writers) {
            t.join(TimeUnit.SECONDS.toMillis(120));
        }
        writing.set(false);
        chaos.join(TimeUnit.SECONDS.toMillis(60));
        fa.heal();
        fb.heal();
        assertTrue(failures.isEmpty(), "writes the gateway failed: " + failures);
        assertTrue(e.failovers() + e.pathFailures() > 3, "the paths must have failed under load");
        List<Zone> zones = e.zoneControl().report(0, 8L * ZONE).get(10, TimeUnit.SECONDS).value();
        for (int zone = 1; zone <= WRITERS; zone++) {
            assertEquals((long) zone * ZONE + ZONE, zones.get(zone).writePointer(), "zone " + zone + " pointer");
            byte[] got = TestClient.ok(c.read((long) zone * ZONE, ZONE)).data();
            for (int i = 0; i < perZone; i++) {
                byte[] want = chunk(zone, i);
                byte[] have = java.util.Arrays.copyOfRange(got, i * CHUNK, (i + 1) * CHUNK);
                assertArrayEquals(want, have, "zone " + zone + " chunk " + i);
            }
        }
    }
}
