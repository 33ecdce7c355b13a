package io.mpathnbd.file;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.BackendCallback;
import io.mpathnbd.core.backend.BackendContext;
import io.mpathnbd.core.backend.BackendDriver;
import io.mpathnbd.core.backend.BackendException;
import io.mpathnbd.core.backend.BackendSession;
import io.mpathnbd.core.backend.ControlResult;
import io.mpathnbd.core.backend.DriverOptions;
import io.mpathnbd.core.backend.Drivers;
import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.backend.FailureKind;
import io.mpathnbd.core.backend.ZoneOps;
import io.mpathnbd.core.request.BlockFlags;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.core.request.Extents;
import io.mpathnbd.core.zone.Zone;
import io.mpathnbd.core.zone.ZoneAction;
import io.mpathnbd.core.zone.ZoneCondition;
import io.mpathnbd.core.zone.ZoneError;
import io.mpathnbd.core.zone.ZoneLayout;
import io.mpathnbd.core.zone.ZoneModel;
import io.mpathnbd.core.zone.ZoneType;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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
 * The emulated zoned file through the backend SPI: real images on disk, requests through {@link BackendSession},
 * zone commands through {@link ZoneOps}. The disk: 8 zones of 64 KiB, the first conventional, at most 2 open.
 */
class ZonedFileBackendTest {
    private static final int KIB = 1024;
    private static final int ZONE = 64 * KIB;
    private static final String ZONED = "?zone-size=64KiB&conventional=1&max-open=2";

    @TempDir
    Path dir;

    private EventLoopGroup loops;
    private BackendContext context;
    private final FileDriverFactory factory = new FileDriverFactory();
    private final List<BackendDriver> drivers = new ArrayList<>();
    private final List<BackendSession> sessions = new ArrayList<>();

    @BeforeEach
    void setUp() {
        loops = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        context = new BackendContext(loops, false);
    }

    @AfterEach
    void tearDown() throws Exception {
        for (BackendSession s : sessions) {
            s.close().get(5, TimeUnit.SECONDS);
        }
        drivers.forEach(BackendDriver::shutdown);
        loops.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS).syncUninterruptibly();
    }

    /** An image of {@code size} bytes full of 0xAA: old data a reset or an unwritten zone must never show. */
    private Path image(String name, int size) throws IOException {
        Path p = dir.resolve(name);
        byte[] old = new byte[size];
        Arrays.fill(old, (byte) 0xAA);
        Files.write(p, old);
        return p;
    }

    private BackendDriver driver(String uri) {
        BackendDriver d = factory.create(URI.create(uri), context, DriverOptions.defaults());
        drivers.add(d);
        return d;
    }

    private BackendSession open(String uri) throws Exception {
        BackendSession s = driver(uri).connect().get(5, TimeUnit.SECONDS);
        sessions.add(s);
        return s;
    }

    private BackendException refusedAtOpen(String uri) {
        CompletableFuture<BackendSession> f = driver(uri).connect();
        Exception e = assertThrows(Exception.class, () -> f.get(5, TimeUnit.SECONDS));
        return assertInstanceOf(BackendException.class, e.getCause());
    }

    /** Collects one callback. */
    private static final class Result implements BackendCallback {
        final CompletableFuture<Object> done = new CompletableFuture<>();

        @Override
        public void succeeded(ByteBuf data, Extents e) {
            byte[] bytes = data == null ? new byte[0] : ByteBufUtil.getBytes(data);
            if (data != null) {
                data.release();
            }
            done.complete(bytes);
        }

        @Override
        public void failed(Failure failure) {
            done.complete(failure);
        }

        byte[] data() throws Exception {
            Object o = done.get(5, TimeUnit.SECONDS);
            if (o instanceof Failure) {
                throw new AssertionError("failed: " + o);
            }
            return (byte[]) o;
        }

        Failure failure() throws Exception {
            return assertInstanceOf(Failure.class, done.get(5, TimeUnit.SECONDS));
        }
    }

    private static Result submit(BackendSession s, BlockOp op, int flags, long offset, int length, byte[] data) {
        ByteBuf payload = null;
        if (data != null) {
            payload = PooledByteBufAllocator.DEFAULT.directBuffer(data.length);
            payload.writeBytes(data);
        }
        Result r = new Result();
        s.submit(new BlockRequest(op, flags, offset, length, 1, payload, null), r);
        if (payload != null) {
            ByteBuf p = payload;
            r.done.whenComplete((o, t) -> p.release()); // the request's own reference, as the export holds it
        }
        return r;
    }

    private static void write(BackendSession s, long offset, byte[] data) throws Exception {
        submit(s, BlockOp.WRITE, 0, offset, data.length, data).data();
    }

    private static Failure refusedWrite(BackendSession s, long offset, byte[] data) throws Exception {
        return submit(s, BlockOp.WRITE, 0, offset, data.length, data).failure();
    }

    private static byte[] read(BackendSession s, long offset, int length) throws Exception {
        return submit(s, BlockOp.READ, 0, offset, length, null).data();
    }

    private static void flush(BackendSession s) throws Exception {
        submit(s, BlockOp.FLUSH, 0, 0, 0, null).data();
    }

    private static <T> T ok(CompletableFuture<ControlResult<T>> f) throws Exception {
        ControlResult<T> r = f.get(5, TimeUnit.SECONDS);
        assertTrue(r.succeeded(), r.toString());
        return r.value();
    }

    private static Failure refused(CompletableFuture<? extends ControlResult<?>> f) throws Exception {
        ControlResult<?> r = f.get(5, TimeUnit.SECONDS);
        assertFalse(r.succeeded(), "succeeded: " + r);
        return r.failure();
    }

    private static Zone zone(BackendSession s, int z) throws Exception {
        List<Zone> zones = ok(s.zones().report((long) z * ZONE, 1));
        assertEquals(1, zones.size());
        return zones.get(0);
    }

    private static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 31 + seed);
        }
        return b;
    }

    private static byte[] zeros(int n) {
        return new byte[n];
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    @Test
    void aZonedFileOffersZoneCommandsAndAPlainOneDoesNot() throws Exception {
        Path img = image("z.img", 8 * ZONE);
        BackendSession s = open("file:" + img + ZONED);
        ZoneOps ops = s.zones();
        assertNotNull(ops);
        assertEquals(new ZoneLayout(ZoneModel.HOST_MANAGED, ZONE, 8, 2), ops.layout());
        assertEquals(512, s.info().minBlockSize());
        assertTrue(s.info().description().contains("emulated zoned file"), s.info().description());
        List<Zone> all = ok(ops.report(0, 8L * ZONE));
        assertEquals(8, all.size());
        assertEquals(ZoneType.CONVENTIONAL, all.get(0).type());
        assertEquals(new Zone(ZONE, ZONE, ZONE, ZONE, ZoneType.SEQUENTIAL_WRITE_REQUIRED, ZoneCondition.EMPTY),
                all.get(1));
        assertTrue(Files.exists(dir.resolve("z.img.zones")), "a new emulated disk saves its empty zones at once");
        assertNull(open("file:" + image("plain.img", ZONE)).zones());
        assertNotNull(new Drivers(context).create("file:" + img + ZONED, DriverOptions.defaults()));
    }

    @Test
    void writesGoAtTheWritePointerAndReadsPastItAreZeros() throws Exception {
        Path img = image("seq.img", 8 * ZONE);
        BackendSession s = open("file:" + img + ZONED);
        byte[] a = pattern(4 * KIB, 1);
        byte[] b = pattern(8 * KIB, 2);
        write(s, ZONE, a);
        write(s, ZONE + a.length, b);
        Zone z = zone(s, 1);
        assertEquals(ZoneCondition.IMPLICIT_OPEN, z.condition());
        assertEquals(ZONE + 12 * KIB, z.writePointer());
        assertArrayEquals(concat(concat(a, b), zeros(4 * KIB)), read(s, ZONE, 16 * KIB),
                "past the write pointer the image's old bytes read as zeros");
        assertArrayEquals(zeros(ZONE), read(s, 2L * ZONE, ZONE), "a zone never written reads as zeros");

        Failure behind = refusedWrite(s, ZONE, pattern(4 * KIB, 3));
        assertEquals(FailureKind.TARGET, behind.kind());
        assertEquals(ZoneError.UNALIGNED_WRITE, behind.zoneError());
        assertEquals(Errno.EIO, behind.errno());
        assertTrue(behind.message().contains("write pointer"), behind.message());
        assertEquals(ZoneError.UNALIGNED_WRITE, refusedWrite(s, ZONE + 16 * KIB, a).zoneError(), "ahead");
        byte[] onDisk = Files.readAllBytes(img);
        assertArrayEquals(a, Arrays.copyOfRange(onDisk, ZONE, ZONE + a.length), "a refused write wrote nothing");
        assertEquals((byte) 0xAA, onDisk[ZONE + 16 * KIB]);

        assertEquals(ZoneError.BOUNDARY_VIOLATION,
                refusedWrite(s, ZONE + 12 * KIB, pattern(ZONE, 4)).zoneError(), "crossing into zone 2");
        assertEquals(ZoneError.BOUNDARY_VIOLATION, refusedWrite(s, ZONE - 4 * KIB, pattern(8 * KIB, 5)).zoneError(),
                "conventional into sequential");
        Failure odd = refusedWrite(s, ZONE + 12 * KIB, pattern(100, 6));
        assertEquals(Errno.EINVAL, odd.errno(), "not whole blocks");
        write(s, 1536, pattern(2560, 7)); // the conventional zone: anywhere, in whole blocks
        write(s, 0, pattern(4 * KIB, 8));
        assertArrayEquals(pattern(4 * KIB, 8), read(s, 0, 4 * KIB));
    }

    @Test
    void writeZeroesAndFullZones() throws Exception {
        Path img = image("wz.img", 8 * ZONE);
        BackendSession s = open("file:" + img + ZONED);
        submit(s, BlockOp.WRITE_ZEROES, 0, ZONE, 8 * KIB, null).data();
        assertEquals(ZONE + 8 * KIB, zone(s, 1).writePointer(), "write zeroes moves the pointer like a write");
        write(s, ZONE + 8 * KIB, pattern(ZONE - 8 * KIB, 1));
        assertEquals(ZoneCondition.FULL, zone(s, 1).condition());
        Failure full = refusedWrite(s, ZONE, pattern(4 * KIB, 2));
        assertEquals(ZoneError.UNALIGNED_WRITE, full.zoneError());
        assertArrayEquals(concat(zeros(8 * KIB), pattern(ZONE - 8 * KIB, 1)), read(s, ZONE, ZONE));
    }

    @Test
    void resetAndFinishThroughZoneOps() throws Exception {
        Path img = image("mgmt.img", 8 * ZONE);
        BackendSession s = open("file:" + img + ZONED);
        ZoneOps ops = s.zones();
        write(s, ZONE, pattern(8 * KIB, 1));
        ok(ops.manage(ZoneAction.RESET, ZONE));
        assertEquals(ZoneCondition.EMPTY, zone(s, 1).condition());
        assertArrayEquals(zeros(8 * KIB), read(s, ZONE, 8 * KIB), "a reset zone reads as zeros");
        write(s, ZONE, pattern(4 * KIB, 2)); // from the start again

        write(s, 2L * ZONE, pattern(4 * KIB, 3));
        ok(ops.manage(ZoneAction.FINISH, 2L * ZONE));
        Zone finished = zone(s, 2);
        assertEquals(ZoneCondition.FULL, finished.condition());
        assertArrayEquals(concat(pattern(4 * KIB, 3), zeros(12 * KIB)), read(s, 2L * ZONE, 16 * KIB),
                "a finished zone's unwritten blocks read as zeros");

        Failure conventional = refused(ops.manage(ZoneAction.RESET, 0));
        assertEquals(ZoneError.INVALID_REQUEST, conventional.zoneError());
        assertEquals(Errno.EINVAL, conventional.errno());
        assertEquals(ZoneError.INVALID_REQUEST, refused(ops.manage(ZoneAction.OPEN, ZONE + 512)).zoneError());
        assertEquals(ZoneError.INVALID_REQUEST, refused(ops.report(8L * ZONE, 1)).zoneError());

        ok(ops.manageAll(ZoneAction.RESET));
        for (int z = 1; z < 8; z++) {
            assertEquals(ZoneCondition.EMPTY, zone(s, z).condition(), "zone " + z);
        }
    }

    @Test
    void explicitOpensBeyondMaxOpenFailWithInsufficientResources() throws Exception {
        Path img = image("open.img", 8 * ZONE);
        BackendSession s = open("file:" + img + ZONED);
        ZoneOps ops = s.zones();
        write(s, ZONE, pattern(4 * KIB, 1));
        write(s, 2L * ZONE, pattern(4 * KIB, 2));
        write(s, 3L * ZONE, pattern(4 * KIB, 3)); // max-open 2: zone 1, the least recently written, is closed
        assertEquals(ZoneCondition.CLOSED, zone(s, 1).condition());
        ok(ops.manage(ZoneAction.OPEN, 4L * ZONE));
        ok(ops.manage(ZoneAction.OPEN, 5L * ZONE));
        Failure f = refused(ops.manage(ZoneAction.OPEN, 6L * ZONE));
        assertEquals(ZoneError.INSUFFICIENT_ZONE_RESOURCES, f.zoneError());
        assertEquals(Errno.ENOSPC, f.errno());
        assertEquals(ZoneError.INSUFFICIENT_ZONE_RESOURCES, refusedWrite(s, ZONE + 4 * KIB, pattern(512, 4))
                .zoneError(), "a write cannot reopen a closed zone either");
        ok(ops.manage(ZoneAction.CLOSE, 4L * ZONE));
        write(s, ZONE + 4 * KIB, pattern(512, 4));
        assertEquals(ZoneCondition.IMPLICIT_OPEN, zone(s, 1).condition());
    }

    @Test
    void writePointersSurviveARestart() throws Exception {
        Path img = image("persist.img", 8 * ZONE);
        String uri = "file:" + img + ZONED;
        BackendSession s = open(uri);
        write(s, ZONE, pattern(8 * KIB, 1));
        write(s, 2L * ZONE, pattern(ZONE, 2));
        write(s, 3L * ZONE, pattern(4 * KIB, 3));
        ok(s.zones().manage(ZoneAction.FINISH, 3L * ZONE));
        s.close().get(5, TimeUnit.SECONDS); // no FLUSH: an orderly close saves too
        drivers.forEach(BackendDriver::shutdown);

        BackendSession again = open(uri);
        assertEquals(ZoneCondition.CLOSED, zone(again, 1).condition(), "an open zone is closed after power on");
        assertEquals(ZONE + 8 * KIB, zone(again, 1).writePointer());
        assertEquals(ZoneCondition.FULL, zone(again, 2).condition());
        assertEquals(ZoneCondition.FULL, zone(again, 3).condition());
        assertEquals(ZoneCondition.EMPTY, zone(again, 4).condition());
        assertArrayEquals(concat(pattern(8 * KIB, 1), zeros(KIB)), read(again, ZONE, 9 * KIB));
        assertArrayEquals(concat(pattern(4 * KIB, 3), zeros(4 * KIB)), read(again, 3L * ZONE, 8 * KIB),
                "the finished zone's data end was kept");
        write(again, ZONE + 8 * KIB, pattern(KIB, 4)); // writing goes on at the saved pointer
        assertEquals(ZoneError.UNALIGNED_WRITE, refusedWrite(again, ZONE, pattern(KIB, 5)).zoneError());
    }

    @Test
    void aCrashKeepsThePointersOfTheLastFlushNeverAheadOfTheData() throws Exception {
        Path img = image("crash.img", 8 * ZONE);
        BackendSession s = open("file:" + img + ZONED);
        write(s, ZONE, pattern(8 * KIB, 1));
        flush(s);
        write(s, ZONE + 8 * KIB, pattern(8 * KIB, 2)); // not flushed
        submit(s, BlockOp.WRITE, BlockFlags.FUA, 2L * ZONE, 4 * KIB, pattern(4 * KIB, 3)).data(); // FUA: durable
        // what a crash now leaves on disk: the image as written, the state file as last saved
        Path copy = dir.resolve("copy.img");
        Files.copy(img, copy);
        Files.copy(dir.resolve("crash.img.zones"), dir.resolve("copy.img.zones"));
        Files.write(dir.resolve("copy.img.zones.tmp"), new byte[] {1, 2, 3}); // a save cut short: ignored

        BackendSession after = open("file:" + copy + ZONED);
        assertEquals(ZONE + 16 * KIB, zone(after, 1).writePointer(), "the FUA write saved every pointer");
        assertArrayEquals(concat(pattern(8 * KIB, 1), pattern(8 * KIB, 2)), read(after, ZONE, 16 * KIB));
        assertEquals(2L * ZONE + 4 * KIB, zone(after, 2).writePointer());

        write(s, ZONE + 16 * KIB, pattern(4 * KIB, 4)); // after the FUA, not flushed
        Path second = dir.resolve("second.img");
        Files.copy(img, second);
        Files.copy(dir.resolve("crash.img.zones"), dir.resolve("second.img.zones"));
        BackendSession lost = open("file:" + second + ZONED);
        assertEquals(ZONE + 16 * KIB, zone(lost, 1).writePointer(), "the unflushed write is lost, as from a cache");
        assertArrayEquals(zeros(4 * KIB), read(lost, ZONE + 16 * KIB, 4 * KIB), "its bytes read as zeros");
        write(lost, ZONE + 16 * KIB, pattern(4 * KIB, 5)); // and the client can write it again

        flush(s);
        assertFalse(Files.exists(dir.resolve("crash.img.zones.tmp")), "a save leaves no temporary file");

        ok(s.zones().manage(ZoneAction.RESET, ZONE)); // no FLUSH: management is durable when answered
        Path third = dir.resolve("third.img");
        Files.copy(img, third);
        Files.copy(dir.resolve("crash.img.zones"), dir.resolve("third.img.zones"));
        BackendSession reset = open("file:" + third + ZONED);
        assertEquals(ZoneCondition.EMPTY, zone(reset, 1).condition(), "the reset survived the crash");
        assertArrayEquals(zeros(16 * KIB), read(reset, ZONE, 16 * KIB), "the data it dropped stays dropped");
    }

    @Test
    void sequentialStreamsIntoEveryZoneAtOnce() throws Exception {
        Path img = image("streams.img", 8 * ZONE);
        BackendSession s = open("file:" + img + ZONED); // max-open 2, seven streams: zones close and reopen
        int chunk = 4 * KIB;
        int chunks = ZONE / chunk;
        List<CompletableFuture<Void>> streams = new ArrayList<>();
        for (int z = 1; z < 8; z++) {
            streams.add(stream(s, z, 0, chunk, chunks)); // one write in flight per zone, as a per-zone plug sends
        }
        CompletableFuture.allOf(streams.toArray(new CompletableFuture[0])).get(30, TimeUnit.SECONDS);
        for (int z = 1; z < 8; z++) {
            Zone zone = zone(s, z);
            assertEquals(ZoneCondition.FULL, zone.condition(), "zone " + z);
            byte[] expected = new byte[0];
            for (int i = 0; i < chunks; i++) {
                expected = concat(expected, pattern(chunk, z * 100 + i));
            }
            assertArrayEquals(expected, read(s, (long) z * ZONE, ZONE), "zone " + z);
        }
    }

    /** Writes chunks {@code i..chunks-1} of zone {@code z}, each sent when the one before succeeded. */
    private static CompletableFuture<Void> stream(BackendSession s, int z, int i, int chunk, int chunks) {
        if (i == chunks) {
            return CompletableFuture.completedFuture(null);
        }
        long offset = (long) z * ZONE + (long) i * chunk;
        Result r = submit(s, BlockOp.WRITE, 0, offset, chunk, pattern(chunk, z * 100 + i));
        return r.done.thenCompose(o -> {
            if (o instanceof Failure) {
                return CompletableFuture.failedFuture(new AssertionError("zone " + z + " chunk " + i + ": " + o));
            }
            return stream(s, z, i + 1, chunk, chunks);
        });
    }

    @Test
    void twoPathsToOneImageShareItsZones() throws Exception {
        Path img = image("shared.img", 8 * ZONE);
        BackendSession a = open("file:" + img + ZONED);
        BackendSession b = open("file://" + img + ZONED);
        write(a, ZONE, pattern(4 * KIB, 1));
        assertEquals(ZONE + 4 * KIB, zone(b, 1).writePointer());
        assertEquals(ZoneError.UNALIGNED_WRITE, refusedWrite(b, ZONE, pattern(4 * KIB, 2)).zoneError(),
                "the other path sees the moved pointer");
        write(b, ZONE + 4 * KIB, pattern(4 * KIB, 3));
        ok(b.zones().manage(ZoneAction.RESET, ZONE));
        assertEquals(ZoneCondition.EMPTY, zone(a, 1).condition());

        BackendException other = refusedAtOpen("file:" + img + "?zone-size=32KiB");
        assertTrue(other.isConfigurationError());
        assertTrue(other.getMessage().contains("already emulated as a zoned disk"), other.getMessage());

        Path link = dir.resolve("link.img"); // a second name, as a rig gives two paths to one disk
        Files.createSymbolicLink(link, img);
        BackendSession c = open("file:" + link + ZONED);
        assertEquals(ZoneCondition.EMPTY, zone(c, 1).condition(), "the symbolic link reaches the same zones");
        write(c, ZONE, pattern(KIB, 4));
        assertEquals(ZONE + KIB, zone(a, 1).writePointer());
        Path hard = Files.createLink(dir.resolve("hard.img"), img);
        BackendException hardLink = refusedAtOpen("file:" + hard + ZONED);
        assertTrue(hardLink.getMessage().contains("hard link"), hardLink.getMessage());
        assertFalse(Files.exists(dir.resolve("hard.img.zones")));
    }

    @Test
    void readOnlyAndOfflineZonesFromTheUri() throws Exception {
        Path img = image("bad.img", 8 * ZONE);
        BackendSession s = open("file:" + img + ZONED + "&read-only-zones=2&offline-zones=3,4");
        assertEquals(ZoneCondition.READ_ONLY, zone(s, 2).condition());
        assertEquals(ZoneCondition.OFFLINE, zone(s, 4).condition());
        Failure ro = refusedWrite(s, 2L * ZONE, pattern(KIB, 1));
        assertEquals(ZoneError.ZONE_READ_ONLY, ro.zoneError());
        assertEquals(Errno.EPERM, ro.errno());
        assertArrayEquals(zeros(KIB), read(s, 2L * ZONE, KIB), "a read-only zone reads");
        Failure off = submit(s, BlockOp.READ, 0, 3L * ZONE - KIB, 2 * KIB, null).failure();
        assertEquals(ZoneError.ZONE_OFFLINE, off.zoneError(), "a read touching an offline zone");
        assertEquals(ZoneError.ZONE_OFFLINE, refused(s.zones().manage(ZoneAction.RESET, 3L * ZONE)).zoneError());
    }

    @Test
    void zoneCommandsOnAClosedSessionArePathFailures() throws Exception {
        Path img = image("closed.img", 8 * ZONE);
        BackendSession s = open("file:" + img + ZONED);
        ZoneOps ops = s.zones();
        s.close().get(5, TimeUnit.SECONDS);
        assertEquals(FailureKind.PATH, refused(ops.manage(ZoneAction.RESET, ZONE)).kind(), "another path may do it");
        assertEquals(FailureKind.PATH, refused(ops.report(0, ZONE)).kind());
        BackendSession other = open("file:" + img + ZONED);
        assertEquals(ZoneCondition.EMPTY, zone(other, 1).condition());
    }

    @Test
    void aReadOnlyZonedFileChangesNothing() throws Exception {
        Path img = image("ro.img", 8 * ZONE);
        BackendSession s = open("file:" + img + ZONED + "&readonly=true");
        assertEquals(Errno.EPERM, refusedWrite(s, ZONE, pattern(KIB, 1)).errno());
        assertEquals(Errno.EPERM, refused(s.zones().manage(ZoneAction.FINISH, ZONE)).errno());
        assertEquals(ZoneCondition.EMPTY, zone(s, 1).condition());
        flush(s);
        s.close().get(5, TimeUnit.SECONDS);
        assertFalse(Files.exists(dir.resolve("ro.img.zones")), "no state file for a disk nothing can change");
    }

    @Test
    void badParametersAreRefusedWithClearMessages() throws Exception {
        assertMessage("zone-size 3145728 is not a power of two", "file:/z.img?zone-size=3MiB");
        assertMessage("zone-size 256 is smaller than the block size 512", "file:/z.img?zone-size=256");
        assertMessage("conventional needs zone-size", "file:/z.img?conventional=4");
        assertMessage("zone-size 'big' is not a size", "file:/z.img?zone-size=big");
        assertMessage("max-open 'x' is not a whole number", "file:/z.img?zone-size=1MiB&max-open=x");
        assertMessage("zone-capacity 2097152 must be a multiple", "file:/z.img?zone-size=1MiB&zone-capacity=2MiB");
        assertMessage("block-size 1000", "file:/z.img?zone-size=1MiB&block-size=1000");
        assertMessage("unknown parameter 'zone-count' (supported: readonly, block-size, conventional",
                "file:/z.img?zone-count=4");
        assertMessage("given twice", "file:/z.img?zone-size=1MiB&zone-size=2MiB");

        Path img = image("small.img", 8 * ZONE);
        BackendException many = refusedAtOpen("file:" + img + "?zone-size=64KiB&conventional=8");
        assertTrue(many.isConfigurationError());
        assertTrue(many.getMessage().contains("conventional=8 leaves no sequential zone"), many.getMessage());
        Path odd = dir.resolve("odd.img");
        Files.write(odd, new byte[ZONE + 100]);
        BackendException size = refusedAtOpen("file:" + odd + "?zone-size=64KiB");
        assertTrue(size.getMessage().contains("not a multiple of the block size 512"), size.getMessage());
        assertFalse(Files.exists(dir.resolve("small.img.zones")), "a refused open saves nothing");
    }

    @Test
    void aStateFileOfAnotherLayoutOrDamagedIsRefused() throws Exception {
        Path img = image("layout.img", 8 * ZONE);
        BackendSession s = open("file:" + img + ZONED);
        write(s, ZONE, pattern(KIB, 1));
        s.close().get(5, TimeUnit.SECONDS);
        BackendException layout = refusedAtOpen("file:" + img + "?zone-size=32KiB&conventional=1");
        assertTrue(layout.isConfigurationError());
        assertTrue(layout.getMessage().contains("layout.img.zones was written for zone-size=65536"),
                layout.getMessage());
        Path state = dir.resolve("layout.img.zones");
        byte[] bytes = Files.readAllBytes(state);
        bytes[60] ^= 1;
        Files.write(state, bytes);
        BackendException damaged = refusedAtOpen("file:" + img + ZONED);
        assertTrue(damaged.getMessage().contains("checksum"), damaged.getMessage());
        Files.move(state, dir.resolve("kept"), StandardCopyOption.REPLACE_EXISTING);
        BackendSession fresh = open("file:" + img + ZONED); // without a state file: a new disk, every zone empty
        assertEquals(ZoneCondition.EMPTY, zone(fresh, 1).condition());
        assertArrayEquals(zeros(KIB), read(fresh, ZONE, KIB));
    }

    private void assertMessage(String part, String uri) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> driver(uri));
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }
}
