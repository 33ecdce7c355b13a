package io.mpathnbd.iscsi.backend;

import static io.mpathnbd.iscsi.backend.IscsiHarness.run;
import static io.mpathnbd.iscsi.backend.IscsiHarness.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.BackendDriver;
import io.mpathnbd.core.backend.BackendException;
import io.mpathnbd.core.backend.BackendInfo;
import io.mpathnbd.core.backend.Capability;
import io.mpathnbd.core.backend.DriverOptions;
import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.backend.FailureKind;
import io.mpathnbd.core.request.BlockFlags;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.testing.Tgtd;
import io.mpathnbd.testing.peers.Images;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The iSCSI driver against a real tgtd (private socket, two portals): attach, identity, I/O checked on the image. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class IscsiDriverTest {
    private static final long SIZE = 16L << 20;

    @TempDir
    Path dir;

    private Path image;
    private Tgtd tgtd;
    private IscsiHarness harness;

    @BeforeEach
    void setUp() throws Exception {
        image = Images.sparse(dir, "lun1.img", SIZE);
        Images.write(image, 0, Images.pattern(7, 64 * 1024));
        tgtd = Tgtd.start(image);
        harness = new IscsiHarness();
    }

    @AfterEach
    void tearDown() {
        harness.close();
        tgtd.close();
    }

    private IscsiBackendSession connect(int portal) {
        return harness.connect(harness.driver(tgtd.uri(portal), DriverOptions.defaults()));
    }

    @Test
    void attachReportsTheDiskAndBothPortalsShowTheSameIdentity() {
        IscsiBackendSession a = connect(0);
        IscsiBackendSession b = connect(1);
        BackendInfo info = a.info();
        assertEquals(SIZE, info.size());
        assertEquals(512, info.minBlockSize());
        assertTrue(info.has(Capability.FLUSH) && info.has(Capability.FUA) && info.has(Capability.WRITE_ZEROES),
                Capability.describe(info.capabilities()));
        assertFalse(info.has(Capability.MULTI_CONN));
        assertNotNull(info.identity());
        assertTrue(info.identity().startsWith("naa."), info.identity());
        assertEquals(info.identity(), b.info().identity());
        assertTrue(info.description().startsWith("IET VIRTUAL-DISK"), info.description());
        assertTrue(info.description().contains(info.identity()), info.description());
        assertNull(a.accessState(), "tgt reports no ALUA");
        assertEquals(2, tgtd.connections().size(), "each path is its own session (own ISID): " + tgtd.connections());
    }

    @Test
    void eachDriverKeepsItsOwnIsid() {
        IscsiDriver d1 = (IscsiDriver) harness.driver(tgtd.uri(0), DriverOptions.defaults());
        IscsiDriver d2 = (IscsiDriver) harness.driver(tgtd.uri(0), DriverOptions.defaults());
        assertNotEquals(d1.isid(), d2.isid());
        assertEquals(0x80L, d1.isid() >>> 40, "random ISID type");
    }

    @Test
    void readsAndWritesRoundTripThroughTheImageFile() {
        IscsiBackendSession s = connect(0);
        assertArrayEquals(Images.pattern(7, 64 * 1024), run(s, BlockOp.READ, 0, 0, 64 * 1024).bytes());
        byte[] data = Images.pattern(11, 1 << 20);
        write(s, 0, 4L << 20, data).assertOk();
        byte[] fua = Images.pattern(12, 4096);
        write(s, BlockFlags.FUA, 8L << 20, fua).assertOk();
        run(s, BlockOp.FLUSH, 0, 0, 0).assertOk();
        assertArrayEquals(data, Images.read(image, 4L << 20, 1 << 20), "1 MiB write (immediate data + R2T bursts)");
        assertArrayEquals(fua, Images.read(image, 8L << 20, 4096));
        assertArrayEquals(data, run(s, BlockOp.READ, 0, 4L << 20, 1 << 20).bytes());
    }

    @Test
    void writeZeroesAndTrimClearTheRange() throws Exception {
        tgtd.tgtadm("--op", "update", "--mode", "logicalunit", "--tid", "1", "--lun", "1", "--params",
                "thin_provisioning=1");
        IscsiBackendSession s = connect(0);
        assertTrue(s.info().has(Capability.TRIM), "thin provisioning: UNMAP offered");
        byte[] ones = new byte[256 * 1024];
        java.util.Arrays.fill(ones, (byte) 0xab);
        write(s, 0, 1L << 20, ones).assertOk();
        write(s, 0, 2L << 20, ones).assertOk();
        write(s, 0, 3L << 20, ones).assertOk();
        run(s, BlockOp.WRITE_ZEROES, 0, 1L << 20, ones.length).assertOk();
        run(s, BlockOp.WRITE_ZEROES, BlockFlags.NO_HOLE | BlockFlags.FUA, 2L << 20, ones.length).assertOk();
        run(s, BlockOp.TRIM, 0, 3L << 20, ones.length).assertOk();
        byte[] zero = new byte[ones.length];
        assertArrayEquals(zero, Images.read(image, 1L << 20, ones.length));
        assertArrayEquals(zero, Images.read(image, 2L << 20, ones.length));
        assertArrayEquals(zero, Images.read(image, 3L << 20, ones.length), "tgt punches a hole on UNMAP");
    }

    @Test
    void expectedIdentityRefusesADifferentDisk() {
        BackendDriver d = harness.driver(tgtd.uri(0), DriverOptions.defaults().withExpectedIdentity("naa.1234"));
        BackendException e = harness.connectFails(d);
        assertTrue(e.isConfigurationError());
        assertTrue(e.getMessage().contains("expected 'naa.1234'"), e.getMessage());
        String real = connect(0).info().identity();
        assertNotNull(harness.connect(harness.driver(tgtd.uri(1), DriverOptions.defaults().withExpectedIdentity(real))));
    }

    @Test
    void targetErrorsAreClassified() {
        IscsiBackendSession s = connect(0);
        Failure read = run(s, BlockOp.READ, 0, SIZE, 4096).assertFailed();
        assertEquals(FailureKind.TARGET, read.kind());
        assertEquals(Errno.EINVAL, read.errno());
        assertTrue(read.message().contains("ILLEGAL REQUEST 21/00"), read.message());
        Failure w = write(s, 0, SIZE - 512, new byte[1024]).assertFailed();
        assertEquals(FailureKind.TARGET, w.kind());
        assertEquals(Errno.ENOSPC, w.errno());
        Failure mis = run(s, BlockOp.READ, 0, 100, 512).assertFailed();
        assertEquals(FailureKind.TARGET, mis.kind());
        assertEquals(Errno.EINVAL, mis.errno());
        IscsiHarness.get(s.probe());
    }

    @Test
    void aCutConnectionEndsTheSessionWithAReason() throws Exception {
        IscsiBackendSession s = connect(0);
        tgtd.dropConnections();
        s.closeFuture().get(20, TimeUnit.SECONDS);
        assertNotNull(s.lossReason());
        Failure f = run(s, BlockOp.READ, 0, 0, 4096).assertFailed();
        assertEquals(FailureKind.PATH, f.kind());
    }

    @Test
    void anUnknownTargetIsAConfigurationError() {
        String uri = tgtd.uri(0).replace(Tgtd.IQN, "iqn.2026-11.io.mpathnbd:nope");
        BackendException e = harness.connectFails(harness.driver(uri, DriverOptions.defaults()));
        assertTrue(e.isConfigurationError(), e.getMessage());
    }

    @Test
    void orderlyCloseLogsOut() throws Exception {
        IscsiBackendSession s = connect(0);
        s.close().get(10, TimeUnit.SECONDS);
        assertNull(s.lossReason());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!tgtd.connections().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(tgtd.connections().isEmpty(), "the target forgot the session: " + tgtd.connections());
    }
}
