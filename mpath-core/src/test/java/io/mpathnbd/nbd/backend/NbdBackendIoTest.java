package io.mpathnbd.nbd.backend;

import static io.mpathnbd.nbd.backend.BackendHarness.read;
import static io.mpathnbd.nbd.backend.BackendHarness.run;
import static io.mpathnbd.nbd.backend.BackendHarness.submit;
import static io.mpathnbd.nbd.backend.BackendHarness.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.DriverOptions;
import io.mpathnbd.core.request.BlockFlags;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.Extents;
import io.mpathnbd.core.support.BackendCalls.Recorder;
import io.mpathnbd.core.support.BackendOutcome;
import io.mpathnbd.testing.peers.Images;
import io.mpathnbd.testing.peers.Nbdkit;
import io.mpathnbd.testing.peers.QemuNbd;
import io.mpathnbd.testing.peers.Tools;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Every operation the backend forwards, checked by its effect on real servers and images. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NbdBackendIoTest {
    private static final long SIZE = 64L << 20;
    private static final int MIB = 1 << 20;

    @TempDir
    Path tmp;

    private final BackendHarness harness = new BackendHarness();

    @BeforeAll
    static void tools() {
        Tools.require("nbdkit", "qemu-nbd");
    }

    @AfterEach
    void tearDown() {
        harness.close();
    }

    @Test
    void manyConcurrentRequestsAcrossConnections() {
        try (Nbdkit kit = Nbdkit.builder().dir(tmp).memory(SIZE).start()) {
            NbdSession s = harness.connect(kit.uri());
            int n = 200;
            int len = 64 * 1024;
            List<Recorder> writes = new ArrayList<>();
            List<ByteBuf> payloads = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                ByteBuf p = PooledByteBufAllocator.DEFAULT.directBuffer(len).writeBytes(Images.pattern(i, len));
                payloads.add(p);
                writes.add(submit(s, BlockOp.WRITE, 0, (long) i * len, len, p));
            }
            writes.forEach(w -> w.await().assertOk());
            for (ByteBuf p : payloads) {
                assertEquals(1, p.refCnt(), "the backend gave back every payload reference it took");
                p.release();
            }
            run(s, BlockOp.FLUSH, 0, 0, 0).assertOk();
            List<Recorder> reads = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                reads.add(submit(s, BlockOp.READ, 0, (long) i * len, len, null));
            }
            for (int i = 0; i < n; i++) {
                assertArrayEquals(Images.pattern(i, len), reads.get(i).await().bytes(), "block " + i);
            }
        }
    }

    @Test
    void largestPayloadRoundTrip() {
        try (Nbdkit kit = Nbdkit.builder().dir(tmp).memory(SIZE).start()) {
            NbdSession s = harness.connect(kit.uri(), DriverOptions.defaults().withConnections(1));
            byte[] data = Images.pattern(7, 32 * MIB);
            write(s, 0, 0, data).assertOk();
            assertArrayEquals(data, read(s, 0, data.length));
        }
    }

    @Test
    void fuaWriteAndFlushReachTheImage() {
        Path image = Images.sparse(tmp, "disk.img", SIZE);
        try (Nbdkit kit = Nbdkit.builder().dir(tmp).file(image).start()) {
            NbdSession s = harness.connect(kit.uri());
            byte[] a = Images.pattern(1, 8192);
            BackendOutcome o = write(s, BlockFlags.FUA, 3 * MIB, a).assertOk();
            assertNull(o.data());
            assertArrayEquals(a, Images.read(image, 3 * MIB, a.length));
            byte[] b = Images.pattern(2, 8192);
            write(s, 0, 5 * MIB, b).assertOk();
            BackendOutcome f = run(s, BlockOp.FLUSH, 0, 0, 0).assertOk();
            assertNull(f.data());
            assertArrayEquals(b, Images.read(image, 5 * MIB, b.length));
        }
    }

    @Test
    void trimAndWriteZeroesLeaveZeroes() {
        try (Nbdkit kit = Nbdkit.builder().dir(tmp).memory(SIZE).start()) {
            NbdSession s = harness.connect(kit.uri());
            byte[] data = Images.pattern(5, 3 * 65536);
            write(s, 0, 0, data).assertOk();
            run(s, BlockOp.TRIM, 0, 0, 65536).assertOk();
            run(s, BlockOp.WRITE_ZEROES, 0, 65536, 65536).assertOk();
            run(s, BlockOp.WRITE_ZEROES, BlockFlags.NO_HOLE | BlockFlags.FUA, 2 * 65536, 4096).assertOk();
            byte[] got = read(s, 0, data.length);
            byte[] expected = data.clone();
            java.util.Arrays.fill(expected, 0, 2 * 65536 + 4096, (byte) 0);
            assertArrayEquals(expected, got);
        }
    }

    @Test
    void cacheIsForwarded() {
        try (Nbdkit kit = Nbdkit.builder().dir(tmp).memory(SIZE).start()) {
            NbdSession s = harness.connect(kit.uri());
            run(s, BlockOp.CACHE, 0, 0, 65536).assertOk();
        }
    }

    @Test
    void blockStatusOfASparseImage() {
        Path image = Images.sparse(tmp, "sparse.img", 16 * MIB);
        Images.write(image, MIB, Images.pattern(9, MIB));
        try (Nbdkit kit = Nbdkit.builder().dir(tmp).file(image).start()) {
            NbdSession s = harness.connect(kit.uri());
            Extents e = run(s, BlockOp.BLOCK_STATUS, 0, 0, 4 * MIB).assertOk().extents();
            assertEquals(3, e.count(), e.toString());
            assertEquals(MIB, e.length(0));
            assertEquals(Extents.HOLE | Extents.ZERO, e.flags(0));
            assertEquals(MIB, e.length(1));
            assertEquals(0, e.flags(1));
            assertEquals(2 * MIB, e.length(2), "extents past the request are cut at its end");
            assertEquals(Extents.HOLE | Extents.ZERO, e.flags(2));

            Extents one = run(s, BlockOp.BLOCK_STATUS, BlockFlags.REQ_ONE, MIB, 4 * MIB).assertOk().extents();
            assertEquals(1, one.count());
            assertEquals(0, one.flags(0));
            assertEquals(MIB, one.length(0));
        }
    }

    @Test
    void sparseStructuredReadIsAssembled() {
        // qemu-nbd answers a read over holes with OFFSET_HOLE chunks next to OFFSET_DATA
        Path image = Images.sparse(tmp, "sparse.img", 16 * MIB);
        byte[] data = Images.pattern(11, 64 * 1024);
        Images.write(image, 2 * MIB, data);
        try (QemuNbd q = QemuNbd.builder().image(image).dir(tmp).start()) {
            NbdSession s = harness.connect(q.uri());
            byte[] expected = new byte[4 * MIB];
            System.arraycopy(data, 0, expected, MIB, data.length);
            BackendOutcome sparse = run(s, BlockOp.READ, 0, MIB, 4 * MIB).assertOk();
            assertTrue(sparse.data() instanceof CompositeByteBuf, "several chunks are joined without copying: "
                    + sparse.data().getClass());
            assertArrayEquals(expected, sparse.bytes());
            // DF: one chunk, passed on as it is (its data may itself be a composite of receive buffers: the reply
            // decoder gathers a payload spanning several socket reads without copying it)
            BackendOutcome df = run(s, BlockOp.READ, BlockFlags.DF, MIB, 4 * MIB).assertOk();
            assertArrayEquals(expected, df.bytes(), "DF: the same data in one chunk");
        }
    }

    @Test
    void multiConnUsesSeveralEventLoopsAndPrefersTheCallersLoop() throws Exception {
        // a slow server keeps requests in flight long enough to see where they went
        try (Nbdkit kit = Nbdkit.builder().dir(tmp).delay(Duration.ofMillis(300), null).memory(SIZE).start()) {
            NbdSession s = harness.connect(kit.uri(), DriverOptions.defaults().withConnections(3));
            assertEquals(3, s.connectionCount());
            Set<Object> loops = new HashSet<>();
            for (int i = 0; i < 3; i++) {
                loops.add(s.connection(i).eventLoop());
            }
            assertEquals(3, loops.size(), "each connection on its own event loop");

            // from a thread outside the group: round robin
            List<Recorder> rs = new ArrayList<>();
            for (int i = 0; i < 9; i++) {
                rs.add(submit(s, BlockOp.READ, 0, 0, 4096, null));
            }
            awaitInFlight(s, 9);
            int[] perConnection = s.inFlightPerConnection();
            for (int n : perConnection) {
                assertEquals(3, n, java.util.Arrays.toString(perConnection));
            }
            rs.forEach(r -> r.await().bytes());

            // from a connection's own event loop: that connection
            CompletableFuture<Recorder> fromLoop = new CompletableFuture<>();
            s.connection(2).eventLoop().execute(() -> fromLoop.complete(submit(s, BlockOp.READ, 0, 0, 4096, null)));
            Recorder r = fromLoop.get(5, TimeUnit.SECONDS);
            awaitInFlight(s, 1);
            assertEquals(1, s.inFlightPerConnection()[2], java.util.Arrays.toString(s.inFlightPerConnection()));
            r.await().bytes();
        }
    }

    @Test
    void moreConnectionsThanEventLoopsAreSpreadEvenlyAndAllCarryTheLoopsRequests() throws Exception {
        try (Nbdkit kit = Nbdkit.builder().dir(tmp).delay(Duration.ofMillis(300), null).memory(SIZE).start()) {
            // twice as many connections as the harness has event loops
            NbdSession s = harness.connect(kit.uri(), DriverOptions.defaults().withConnections(8));
            assertEquals(8, s.connectionCount());
            Map<Object, List<Integer>> byLoop = new HashMap<>();
            for (int i = 0; i < 8; i++) {
                byLoop.computeIfAbsent(s.connection(i).eventLoop(), k -> new ArrayList<>()).add(i);
            }
            assertEquals(4, byLoop.size(), "every event loop has connections: " + byLoop);
            byLoop.values().forEach(ids -> assertEquals(2, ids.size(), "two connections per loop: " + byLoop));

            // six requests from one loop: its two connections share them, three each
            List<Integer> mine = byLoop.get(s.connection(1).eventLoop());
            CompletableFuture<List<Recorder>> fromLoop = new CompletableFuture<>();
            s.connection(1).eventLoop().execute(() -> {
                List<Recorder> rs = new ArrayList<>();
                for (int i = 0; i < 6; i++) {
                    rs.add(submit(s, BlockOp.READ, 0, 0, 4096, null));
                }
                fromLoop.complete(rs);
            });
            List<Recorder> rs = fromLoop.get(5, TimeUnit.SECONDS);
            awaitInFlight(s, 6);
            int[] perConnection = s.inFlightPerConnection();
            for (int i = 0; i < 8; i++) {
                assertEquals(mine.contains(i) ? 3 : 0, perConnection[i], java.util.Arrays.toString(perConnection));
            }
            rs.forEach(r -> r.await().bytes());
        }
    }

    private static void awaitInFlight(NbdSession s, int total) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (java.util.Arrays.stream(s.inFlightPerConnection()).sum() < total) {
            assertTrue(System.nanoTime() < deadline, "requests did not reach the connections");
            Thread.onSpinWait();
        }
    }
}
