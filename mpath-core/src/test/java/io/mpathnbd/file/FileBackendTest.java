package io.mpathnbd.file;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.BackendCallback;
import io.mpathnbd.core.backend.BackendContext;
import io.mpathnbd.core.backend.BackendDriver;
import io.mpathnbd.core.backend.BackendException;
import io.mpathnbd.core.backend.BackendInfo;
import io.mpathnbd.core.backend.BackendSession;
import io.mpathnbd.core.backend.Capability;
import io.mpathnbd.core.backend.DriverOptions;
import io.mpathnbd.core.backend.Drivers;
import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.backend.FailureKind;
import io.mpathnbd.core.request.BlockFlags;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.core.request.Extents;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileBackendTest {
    private static final int MIB = 1 << 20;

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

    private Path image(String name, long size) throws IOException {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(size);
        }
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

    /** Collects one callback. */
    private static final class Result implements BackendCallback {
        final CompletableFuture<Object> done = new CompletableFuture<>();
        volatile Extents extents;

        @Override
        public void succeeded(ByteBuf data, Extents e) {
            extents = e;
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

        Object get() throws Exception {
            return done.get(5, TimeUnit.SECONDS);
        }

        byte[] data() throws Exception {
            Object o = get();
            if (o instanceof Failure) {
                throw new AssertionError("failed: " + o);
            }
            return (byte[]) o;
        }

        Failure failure() throws Exception {
            return assertInstanceOf(Failure.class, get());
        }
    }

    private static Result run(BackendSession s, BlockOp op, int flags, long offset, int length, ByteBuf payload) {
        Result r = new Result();
        s.submit(new BlockRequest(op, flags, offset, length, 1, payload, null), r);
        return r;
    }

    private static ByteBuf pooled(byte[] data) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(data.length);
        b.writeBytes(data);
        return b;
    }

    private static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 31 + seed);
        }
        return b;
    }

    @Test
    void acceptsTheThreeUriForms() throws Exception {
        Path img = image("forms.img", MIB);
        FileDriver abs = (FileDriver) driver("file:" + img);
        FileDriver triple = (FileDriver) driver("file://" + img);
        FileDriver local = (FileDriver) driver("file://localhost" + img);
        Path cwd = Paths.get("").toAbsolutePath();
        FileDriver relative = (FileDriver) driver("file:" + cwd.relativize(img));
        assertEquals(img, abs.file());
        assertEquals(img, triple.file());
        assertEquals(img, local.file());
        assertEquals(img, relative.file());
        assertEquals("file:" + img, abs.displayUri());
    }

    @Test
    void rejectsBadUris() {
        IllegalArgumentException host = assertThrows(IllegalArgumentException.class,
                () -> driver("file://otherhost/x.img"));
        assertTrue(host.getMessage().contains("otherhost"), host.getMessage());
        IllegalArgumentException param = assertThrows(IllegalArgumentException.class,
                () -> driver("file:/x.img?size=3"));
        assertTrue(param.getMessage().contains("unknown parameter 'size'"), param.getMessage());
        IllegalArgumentException value = assertThrows(IllegalArgumentException.class,
                () -> driver("file:/x.img?readonly=maybe"));
        assertTrue(value.getMessage().contains("maybe"), value.getMessage());
    }

    @Test
    void registeredWithTheDriverRegistry() throws Exception {
        Path img = image("registry.img", MIB);
        BackendDriver d = new Drivers(context).create("file:" + img, DriverOptions.defaults());
        drivers.add(d);
        assertInstanceOf(FileDriver.class, d);
    }

    @Test
    void reportsSizeCapabilitiesAndIdentity() throws Exception {
        Path img = image("info.img", 3 * MIB + 512);
        BackendInfo info = open("file:" + img).info();
        assertEquals(3 * MIB + 512, info.size());
        int expected = Capability.FLUSH | Capability.FUA | Capability.WRITE_ZEROES | Capability.MULTI_CONN;
        assertEquals(expected, info.capabilities(), Capability.describe(info.capabilities()));
        assertEquals(1, info.minBlockSize());
        assertTrue(info.preferredBlockSize() >= 512 && Integer.bitCount(info.preferredBlockSize()) == 1);
        assertEquals(DriverOptions.DEFAULT_MAX_PAYLOAD, info.maxPayload());
        assertNotNull(info.identity());
        assertTrue(info.identity().startsWith("file:"), info.identity());

        // two sessions on one file: one disk; another file: another disk
        assertEquals(info.identity(), open("file://" + img).info().identity());
        Path other = image("other.img", 3 * MIB + 512);
        assertNotEquals(info.identity(), open("file:" + other).info().identity());
    }

    @Test
    void readOnlyByParameterOrPermission() throws Exception {
        Path img = image("ro.img", MIB);
        BackendSession byParam = open("file:" + img + "?readonly=true");
        assertTrue(byParam.info().has(Capability.READ_ONLY));
        ByteBuf payload = pooled(new byte[4]);
        Failure f = run(byParam, BlockOp.WRITE, 0, 0, 4, payload).failure();
        payload.release();
        assertEquals(FailureKind.TARGET, f.kind());
        assertEquals(Errno.EPERM, f.errno());

        Path locked = image("locked.img", MIB);
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("r--r--r--"));
        boolean root = Files.isWritable(locked); // root may write anyway; then the file is writable
        BackendSession byMode = open("file:" + locked);
        assertEquals(!root, byMode.info().has(Capability.READ_ONLY));
    }

    @Test
    void writesLandAndReadBack() throws Exception {
        Path img = image("rw.img", 4 * MIB);
        BackendSession s = open("file:" + img);
        byte[] data = pattern(128 * 1024, 7);
        ByteBuf payload = pooled(data);
        assertArrayEquals(new byte[0], run(s, BlockOp.WRITE, 0, MIB + 3, data.length, payload).data());
        assertEquals(1, payload.refCnt(), "the backend must not consume the request's payload reference");
        payload.release();
        assertArrayEquals(data, run(s, BlockOp.READ, 0, MIB + 3, data.length, null).data());
        byte[] onDisk = new byte[data.length];
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "r")) {
            f.seek(MIB + 3);
            f.readFully(onDisk);
        }
        assertArrayEquals(data, onDisk);
    }

    @Test
    void writesFromCompositePayloads() throws Exception {
        Path img = image("composite.img", MIB);
        BackendSession s = open("file:" + img);
        byte[] a = pattern(1000, 1);
        byte[] b = pattern(3000, 2);
        ByteBuf composite = PooledByteBufAllocator.DEFAULT.compositeDirectBuffer().addComponents(true, pooled(a),
                pooled(b));
        run(s, BlockOp.WRITE, BlockFlags.FUA, 4096, 4000, composite).data();
        composite.release();
        byte[] both = Arrays.copyOf(a, 4000);
        System.arraycopy(b, 0, both, 1000, 3000);
        assertArrayEquals(both, run(s, BlockOp.READ, 0, 4096, 4000, null).data());
    }

    @Test
    void writeZeroesFlushAndBlockStatus() throws Exception {
        Path img = image("zero.img", 2 * MIB);
        BackendSession s = open("file:" + img);
        byte[] data = pattern(MIB, 3);
        ByteBuf payload = pooled(data);
        run(s, BlockOp.WRITE, 0, 0, MIB, payload).data();
        payload.release();
        run(s, BlockOp.WRITE_ZEROES, BlockFlags.NO_HOLE, 1000, 600_000, null).data();
        byte[] back = run(s, BlockOp.READ, 0, 0, MIB, null).data();
        for (int i = 0; i < MIB; i++) {
            byte want = i >= 1000 && i < 601_000 ? 0 : data[i];
            if (back[i] != want) {
                throw new AssertionError("byte " + i + " is " + back[i] + ", want " + want);
            }
        }
        run(s, BlockOp.FLUSH, 0, 0, 0, null).data();
        Result status = run(s, BlockOp.BLOCK_STATUS, 0, 0, 4096, null);
        status.data();
        assertEquals(1, status.extents.count());
        assertEquals(4096, status.extents.length(0));
        assertEquals(0, status.extents.flags(0));
    }

    @Test
    void answersBadRequestsAsNbdDoes() throws Exception {
        Path img = image("range.img", MIB);
        BackendSession s = open("file:" + img);
        assertEquals(Errno.EINVAL, run(s, BlockOp.READ, 0, MIB - 10, 20, null).failure().errno());
        assertEquals(Errno.EINVAL, run(s, BlockOp.READ, 0, -1, 20, null).failure().errno());
        ByteBuf payload = pooled(new byte[20]);
        Failure past = run(s, BlockOp.WRITE, 0, MIB - 10, 20, payload).failure();
        assertEquals(FailureKind.TARGET, past.kind());
        assertEquals(Errno.ENOSPC, past.errno());
        assertEquals(1, payload.refCnt());
        payload.release();
        assertEquals(Errno.ENOSPC, run(s, BlockOp.WRITE_ZEROES, 0, MIB, 1, null).failure().errno());
        assertEquals(Errno.ENOTSUP, run(s, BlockOp.WRITE_ZEROES, BlockFlags.FAST_ZERO, 0, 512, null).failure().errno());
        assertEquals(Errno.EINVAL, run(s, BlockOp.TRIM, 0, 0, 512, null).failure().errno());
        assertEquals(Errno.EINVAL, run(s, BlockOp.BLOCK_STATUS, 0, MIB, 1, null).failure().errno());
        // a read exactly at the end is fine
        assertEquals(0, run(s, BlockOp.READ, 0, MIB, 0, null).data().length);
    }

    @Test
    void missingFileIsAConfigurationError() throws Exception {
        BackendDriver d = driver("file:" + dir.resolve("absent.img"));
        ExecutionException e = assertThrows(ExecutionException.class, () -> d.connect().get(5, TimeUnit.SECONDS));
        BackendException be = assertInstanceOf(BackendException.class, e.getCause());
        assertTrue(be.isConfigurationError());
        assertTrue(be.getMessage().contains("absent.img"), be.getMessage());
    }

    @Test
    void probeChecksTheFile() throws Exception {
        Path img = image("probe.img", MIB);
        BackendSession s = open("file:" + img);
        s.probe().get(5, TimeUnit.SECONDS);
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(MIB / 2);
        }
        ExecutionException e = assertThrows(ExecutionException.class, () -> s.probe().get(5, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("changed size"), e.getCause().getMessage());
    }

    @Test
    void closeWaitsForRunningIoThenFailsLaterRequests() throws Exception {
        Path img = image("close.img", 64 * MIB);
        BackendSession s = open("file:" + img);
        List<Result> reads = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            reads.add(run(s, BlockOp.READ, 0, (long) i * MIB, MIB, null));
        }
        CompletableFuture<Void> closed = s.close();
        closed.get(5, TimeUnit.SECONDS);
        assertNull(s.lossReason());
        assertTrue(s.closeFuture().isDone());
        // every request was answered before the close completed: served, or failed over as a PATH failure
        for (Result r : reads) {
            assertTrue(r.done.isDone(), "a request was still open when close() completed");
            Object o = r.get();
            if (o instanceof Failure) {
                assertEquals(FailureKind.PATH, ((Failure) o).kind());
            }
        }
        Failure after = run(s, BlockOp.READ, 0, 0, 512, null).failure();
        assertEquals(FailureKind.PATH, after.kind());
        assertFalse(s.probe().handle((v, e) -> e == null).get(5, TimeUnit.SECONDS));
    }
}
