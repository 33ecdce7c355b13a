package io.mpathnbd.iscsi.session;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.iscsi.scsi.Cdbs;
import io.mpathnbd.testing.Tgtd;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The initiator against a real tgtd (started per test with a private IPC socket and two portals). */
class IscsiConnectionTgtdTest {
    private static final String INITIATOR = "iqn.2026-11.io.mpathnbd:session-test";
    private static final long IMAGE_SIZE = 64L << 20;
    private static final long LUN = 1;
    private static EventLoopGroup group;

    @TempDir
    Path dir;
    private Tgtd tgtd;
    private Path image;
    private final List<IscsiConnection> connections = new ArrayList<>();

    @BeforeAll
    static void loops() {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    @AfterAll
    static void stopLoops() throws Exception {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (tgtd != null) {
            tgtd.resume();
        }
        for (IscsiConnection c : connections) {
            c.close().get(10, TimeUnit.SECONDS);
        }
        if (tgtd != null) {
            tgtd.close();
        }
    }

    private void startTarget(Tgtd.Options options) throws Exception {
        image = dir.resolve("lun1.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(IMAGE_SIZE);
        }
        tgtd = options == null ? Tgtd.start(image) : Tgtd.start(image, options);
    }

    private IscsiSessionConfig config(int portal) {
        return IscsiSessionConfig.defaults(INITIATOR, Tgtd.IQN, tgtd.portal(portal), IscsiSessionConfig.randomIsid());
    }

    private EventLoop loop() {
        return group.next();
    }

    private IscsiConnection login(IscsiSessionConfig cfg) throws Exception {
        IscsiConnection c = IscsiConnection.login(cfg, loop(), NioSocketChannel.class).get(30, TimeUnit.SECONDS);
        connections.add(c);
        return c;
    }

    private static LoginException loginFailure(IscsiSessionConfig cfg) throws Exception {
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> IscsiConnection.login(cfg, group.next(), NioSocketChannel.class)
                        .get(30, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof LoginException, "expected a LoginException, got " + e.getCause());
        return (LoginException) e.getCause();
    }

    /** The outcome of one task: a result (owned by the test) or a failure. */
    private record Outcome(ScsiResult result, TaskFailure failure, long nanos) {
        ScsiResult good() {
            assertNull(failure, () -> "task failed: " + failure);
            assertEquals(0, result.status(), () -> "status 0x" + Integer.toHexString(result.status()));
            return result;
        }
    }

    private static CompletableFuture<Outcome> submit(IscsiConnection c, ScsiTask task) {
        CompletableFuture<Outcome> f = new CompletableFuture<>();
        long start = System.nanoTime();
        c.execute(task, new ScsiCallback() {
            @Override
            public void completed(ScsiResult result) {
                assertTrue(c.eventLoop().inEventLoop());
                if (!f.complete(new Outcome(result, null, System.nanoTime() - start))) {
                    result.release();
                }
            }

            @Override
            public void failed(TaskFailure failure) {
                assertTrue(c.eventLoop().inEventLoop());
                f.complete(new Outcome(null, failure, System.nanoTime() - start));
            }
        });
        return f;
    }

    private static Outcome run(IscsiConnection c, ScsiTask task) throws Exception {
        return submit(c, task).get(60, TimeUnit.SECONDS);
    }

    /** Clears the UNIT ATTENTION 29/00 tgt reports on a new session's first command. */
    private static void clearUnitAttention(IscsiConnection c) throws Exception {
        Outcome o = run(c, ScsiTask.noData(LUN, Cdbs.testUnitReady()));
        assertNull(o.failure());
        if (o.result().status() == 2) {
            byte[] sense = o.result().sense();
            assertNotNull(sense);
            assertEquals(6, sense[2] & 0x0f, "sense key UNIT ATTENTION");
            assertEquals(0x29, sense[12] & 0xff);
        }
        o.result().release();
    }

    private void write(IscsiConnection c, long lba, byte[] data) throws Exception {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(data.length).writeBytes(data);
        try {
            run(c, ScsiTask.write(LUN, Cdbs.write16(lba, data.length / 512, false), buf)).good().release();
        } finally {
            buf.release();
        }
    }

    private byte[] read(IscsiConnection c, long lba, int length) throws Exception {
        ScsiResult r = run(c, ScsiTask.read(LUN, Cdbs.read16(lba, length / 512, false), length)).good();
        try {
            assertFalse(r.underflow());
            return ByteBufUtil.getBytes(r.data());
        } finally {
            r.release();
        }
    }

    private byte[] imageBytes(long offset, int length) throws Exception {
        byte[] out = new byte[length];
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "r")) {
            f.seek(offset);
            f.readFully(out);
        }
        return out;
    }

    private static byte[] random(int length, long seed) {
        byte[] b = new byte[length];
        new Random(seed).nextBytes(b);
        return b;
    }

    private void logout(IscsiConnection c) throws Exception {
        c.logout().get(20, TimeUnit.SECONDS);
        assertTrue(c.closeFuture().isDone());
        assertNull(c.lossReason());
    }

    @Test
    void loginWithoutAuthenticationNegotiatesWhatTgtAnswersAndLogsOutCleanly() throws Exception {
        startTarget(null);
        IscsiConnection c = login(config(0));
        NegotiatedParameters p = c.negotiated();
        assertTrue(p.initialR2T(), "tgt answers InitialR2T=Yes");
        assertTrue(p.immediateData());
        assertEquals(262144, p.maxBurstLength());
        assertEquals(65536, p.firstBurstLength());
        assertEquals(1, p.maxOutstandingR2T());
        assertEquals(0, p.errorRecoveryLevel());
        assertFalse(p.headerDigest());
        assertFalse(p.dataDigest());
        assertEquals(262144, p.maxRecvDataSegmentLength());
        assertTrue(p.maxSendDataSegmentLength() >= 512);
        assertNotEquals(0, p.tsih());
        assertEquals(1, p.targetPortalGroupTag());
        List<Tgtd.Connection> live = tgtd.connections();
        assertEquals(1, live.size(), live::toString);
        assertEquals(INITIATOR, live.get(0).initiator());
        logout(c);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!tgtd.connections().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(List.of(), tgtd.connections(), "tgt still has the session after logout");
    }

    @Test
    void inquiryAndReadCapacity() throws Exception {
        startTarget(null);
        IscsiConnection c = login(config(1));
        Outcome first = run(c, ScsiTask.noData(LUN, Cdbs.testUnitReady()));
        assertEquals(2, first.result().status(), "tgt reports UNIT ATTENTION on a new session's first command");
        assertEquals(6, first.result().sense()[2] & 0x0f);
        first.result().release();

        ScsiResult inquiry = run(c, ScsiTask.read(LUN, Cdbs.inquiry(96), 96)).good();
        ByteBuf d = inquiry.data();
        assertTrue(d.readableBytes() >= 36);
        assertEquals(0, d.getByte(d.readerIndex()) & 0x1f, "direct access block device");
        assertEquals("IET", d.toString(d.readerIndex() + 8, 8, StandardCharsets.US_ASCII).trim());
        if (d.readableBytes() < 96) {
            assertTrue(inquiry.underflow());
            assertEquals(96 - d.readableBytes(), inquiry.residualCount());
        }
        inquiry.release();

        ScsiResult cap = run(c, ScsiTask.read(LUN, Cdbs.readCapacity16(32), 32)).good();
        ByteBuf b = cap.data();
        assertEquals(IMAGE_SIZE / 512 - 1, b.getLong(b.readerIndex()));
        assertEquals(512, b.getInt(b.readerIndex() + 8));
        cap.release();
        logout(c);
    }

    @Test
    void writeOneMebibyteAndReadItBack() throws Exception {
        startTarget(null);
        IscsiConnection c = login(config(0));
        clearUnitAttention(c);
        byte[] data = random(1 << 20, 1);
        write(c, 2048, data);
        assertArrayEquals(data, imageBytes(2048L * 512, data.length), "LUN image differs from what was written");
        assertArrayEquals(data, read(c, 2048, data.length));
        // unaligned in the buffer: the write data's reader index is honoured and the buffer is not consumed
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.heapBuffer(4096 + 7).writeZero(7).writeBytes(data, 0, 4096);
        buf.skipBytes(7);
        run(c, ScsiTask.write(LUN, Cdbs.write16(0, 8, true), buf)).good().release();
        assertEquals(4096, buf.readableBytes());
        assertEquals(1, buf.refCnt());
        buf.release();
        assertArrayEquals(java.util.Arrays.copyOf(data, 4096), imageBytes(0, 4096));
        logout(c);
    }

    @Test
    void digestsOnBothWays() throws Exception {
        startTarget(null);
        // tgt offers no digests unless the target is configured for them
        tgtd.tgtadm("--op", "update", "--mode", "target", "--tid", "1", "--name", "HeaderDigest", "--value", "CRC32C");
        tgtd.tgtadm("--op", "update", "--mode", "target", "--tid", "1", "--name", "DataDigest", "--value", "CRC32C");
        IscsiConnection c = login(config(0).withHeaderDigest(true).withDataDigest(true));
        assertTrue(c.negotiated().headerDigest());
        assertTrue(c.negotiated().dataDigest());
        clearUnitAttention(c);
        byte[] data = random(300 * 1024, 2);
        write(c, 100, data);
        assertArrayEquals(data, read(c, 100, data.length));
        assertArrayEquals(data, imageBytes(100L * 512, data.length));
        logout(c);
    }

    @Test
    void manyConcurrentTasksComplete() throws Exception {
        startTarget(null);
        IscsiConnection c = login(config(0));
        clearUnitAttention(c);
        int n = 256;
        int size = 64 * 1024;
        List<CompletableFuture<Outcome>> writes = new ArrayList<>();
        List<ByteBuf> buffers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(size).writeBytes(random(size, 100 + i));
            buffers.add(buf);
            writes.add(submit(c, ScsiTask.write(LUN, Cdbs.write16((long) i * (size / 512), size / 512, false), buf)));
        }
        for (CompletableFuture<Outcome> f : writes) {
            f.get(120, TimeUnit.SECONDS).good().release();
        }
        buffers.forEach(ByteBuf::release);
        List<CompletableFuture<Outcome>> reads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            reads.add(submit(c, ScsiTask.read(LUN, Cdbs.read16((long) i * (size / 512), size / 512, false), size)));
        }
        for (int i = 0; i < n; i++) {
            ScsiResult r = reads.get(i).get(120, TimeUnit.SECONDS).good();
            assertArrayEquals(random(size, 100 + i), ByteBufUtil.getBytes(r.data()), "block " + i);
            r.release();
        }
        assertArrayEquals(random(size, 100 + 77), imageBytes(77L * size, size));
        logout(c);
    }

    @Test
    void chapLogsInAndAWrongSecretIsAConfigurationError() throws Exception {
        startTarget(chapOptions("alice", "alice-secret-12", null, null));
        IscsiConnection c = login(config(0).withChap(new ChapSecret("alice", "alice-secret-12")));
        clearUnitAttention(c);
        logout(c);

        LoginException wrong = loginFailure(config(0).withChap(new ChapSecret("alice", "wrong-secret-99")));
        assertTrue(wrong.isConfigurationError());
        assertEquals(2, wrong.statusClass());
        assertEquals(1, wrong.statusDetail());
        assertTrue(wrong.getMessage().contains("authentication"), wrong.getMessage());
        assertFalse(wrong.getMessage().contains("wrong-secret-99"));

        LoginException none = loginFailure(config(0));
        assertTrue(none.isConfigurationError(), none.getMessage());
    }

    @Test
    void mutualChapVerifiesTheTarget() throws Exception {
        startTarget(chapOptions("alice", "alice-secret-12", "tgt-user", "target-secret-34"));
        IscsiConnection c = login(config(0).withChap(new ChapSecret("alice", "alice-secret-12"))
                .withMutualChap(new ChapSecret("tgt-user", "target-secret-34")));
        clearUnitAttention(c);
        logout(c);

        LoginException bad = loginFailure(config(0).withChap(new ChapSecret("alice", "alice-secret-12"))
                .withMutualChap(new ChapSecret("tgt-user", "not-the-target-secret")));
        assertTrue(bad.isConfigurationError());
        assertEquals(LoginException.LOCAL, bad.statusClass());
        assertTrue(bad.getMessage().contains("mutual CHAP"), bad.getMessage());
        assertFalse(bad.getMessage().contains("not-the-target-secret"));
    }

    @Test
    void unknownTargetIsAConfigurationError() throws Exception {
        startTarget(null);
        LoginException e = loginFailure(config(0).withTargetName("iqn.2026-11.io.mpathnbd:nope"));
        assertTrue(e.isConfigurationError());
        assertEquals(2, e.statusClass());
        assertEquals(3, e.statusDetail());
        assertTrue(e.getMessage().contains("not found"), e.getMessage());
    }

    @Test
    void hungTargetTimesTheTaskOutAfterAbortAndResetAndClosesTheConnection() throws Exception {
        startTarget(null);
        Duration taskTimeout = Duration.ofSeconds(2);
        Duration abortTimeout = Duration.ofSeconds(1);
        IscsiConnection c = login(config(0).withTaskTimeout(taskTimeout).withAbortTimeout(abortTimeout)
                .withNopInterval(Duration.ZERO));
        clearUnitAttention(c);
        tgtd.stop();
        Outcome o = run(c, ScsiTask.read(LUN, Cdbs.read16(0, 8, false), 4096));
        assertNotNull(o.failure(), "a hung target cannot answer");
        assertEquals(TaskFailure.Kind.TIMEOUT, o.failure().kind(), o.failure()::toString);
        long limit = taskTimeout.plus(abortTimeout.multipliedBy(2)).plusSeconds(2).toNanos();
        assertTrue(o.nanos() >= taskTimeout.toNanos(), "timed out early: " + o.nanos());
        assertTrue(o.nanos() <= limit, "timed out after " + TimeUnit.NANOSECONDS.toMillis(o.nanos()) + " ms");
        assertTrue(c.closeFuture().isDone(), "the connection is closed once the task is given up");
        assertNotNull(c.lossReason());
        tgtd.resume();
    }

    @Test
    void droppedConnectionFailsOutstandingTasksAsConnectionLost() throws Exception {
        startTarget(null);
        IscsiConnection c = login(config(0).withNopInterval(Duration.ZERO));
        clearUnitAttention(c);
        int n = 64;
        int size = 1 << 20;
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(size).writeBytes(random(size, 9));
        List<CompletableFuture<Outcome>> writes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            writes.add(submit(c, ScsiTask.write(LUN, Cdbs.write16((long) i * (size / 512), size / 512, false), buf)));
        }
        tgtd.dropConnections();
        int lost = 0;
        for (CompletableFuture<Outcome> f : writes) {
            Outcome o = f.get(60, TimeUnit.SECONDS);
            if (o.failure() != null) {
                assertEquals(TaskFailure.Kind.CONNECTION_LOST, o.failure().kind(), o.failure()::toString);
                lost++;
            } else {
                o.good().release();
            }
        }
        buf.release();
        assertTrue(lost > 0, "no task was in flight when the connection was cut");
        c.closeFuture().get(10, TimeUnit.SECONDS);
        assertNotNull(c.lossReason());
        Outcome after = run(c, ScsiTask.noData(LUN, Cdbs.testUnitReady()));
        assertEquals(TaskFailure.Kind.CONNECTION_LOST, after.failure().kind());
    }

    @Test
    void idleConnectionIsKeptAliveAndAHungTargetIsDetectedByNop() throws Exception {
        startTarget(null);
        IscsiConnection c = login(config(0).withNopInterval(Duration.ofMillis(200)).withNopTimeout(Duration.ofSeconds(1)));
        Thread.sleep(1500); // several pings answered
        assertFalse(c.closeFuture().isDone(), () -> "closed: " + c.lossReason());
        clearUnitAttention(c);
        tgtd.stop();
        long start = System.nanoTime();
        c.closeFuture().get(10, TimeUnit.SECONDS);
        long took = System.nanoTime() - start;
        assertTrue(c.lossReason().contains("NOP-Out"), c.lossReason());
        assertTrue(took < TimeUnit.SECONDS.toNanos(3), "took " + TimeUnit.NANOSECONDS.toMillis(took) + " ms");
        tgtd.resume();
    }

    @Test
    void discoveryListsTheTargetOnEachPortal() throws Exception {
        startTarget(null);
        // tgt answers SendTargets with the portals on the address the discovery connection came in on
        for (int portal = 0; portal < 2; portal++) {
            List<DiscoveredTarget> targets = IscsiConnection.discover(IscsiSessionConfig.defaults(INITIATOR, null,
                    tgtd.portal(portal), IscsiSessionConfig.randomIsid()), loop(), NioSocketChannel.class)
                    .get(30, TimeUnit.SECONDS);
            assertEquals(1, targets.size(), targets::toString);
            DiscoveredTarget t = targets.get(0);
            assertEquals(Tgtd.IQN, t.name());
            String address = tgtd.portal(portal).getHostString() + ":" + tgtd.portal(portal).getPort() + ",1";
            assertTrue(t.addresses().contains(address), t.addresses()::toString);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!tgtd.connections().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(List.of(), tgtd.connections(), "discovery session not logged out");
    }

    @Test
    void executeFromManyThreadsHopsOntoTheLoop() throws Exception {
        startTarget(null);
        IscsiConnection c = login(config(0));
        clearUnitAttention(c);
        AtomicInteger good = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        List<CompletableFuture<Outcome>> all = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < 4; t++) {
            Thread th = new Thread(() -> {
                for (int i = 0; i < 50; i++) {
                    all.add(submit(c, ScsiTask.read(LUN, Cdbs.read16(i, 1, false), 512)));
                }
            });
            threads.add(th);
            th.start();
        }
        for (Thread th : threads) {
            th.join();
        }
        for (CompletableFuture<Outcome> f : all) {
            f.get(60, TimeUnit.SECONDS).good().release();
            good.incrementAndGet();
        }
        assertEquals(200, good.get());
        logout(c);
    }

    private static Tgtd.Options chapOptions(String user, String secret, String mutualUser, String mutualSecret) {
        Tgtd.Options o = Tgtd.Options.defaults().chap(user, secret);
        return mutualUser == null ? o : o.mutualChap(mutualUser, mutualSecret);
    }
}
