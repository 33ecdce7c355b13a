package io.mpathnbd.core.export;

import static io.mpathnbd.core.support.TestRig.fastConfig;
import static io.mpathnbd.core.support.TestRig.path;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.BackendInfo;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.path.PathState;
import io.mpathnbd.core.support.Await;
import io.mpathnbd.core.support.TestRig;
import io.mpathnbd.core.zone.ZoneModel;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A zoned export's paths: all zoned with one layout, or none zoned. Real emulated zoned files; a second path to the
 * same image goes through a symbolic link, as a rig reaches one disk twice.
 */
class ZonedAdmissionTest {
    private static final int KIB = 1024;

    @TempDir
    java.nio.file.Path dir;

    private TestRig rig;
    private java.nio.file.Path img;
    private java.nio.file.Path link;

    @BeforeEach
    void setUp() throws Exception {
        rig = new TestRig(dir);
        img = rig.image("z.img", 512 * KIB);
        link = Files.createSymbolicLink(dir.resolve("z-link.img"), img);
    }

    @AfterEach
    void tearDown() {
        rig.close();
    }

    private static String zoned(java.nio.file.Path p, String zoneSize) {
        return "file:" + p.toAbsolutePath() + "?zone-size=" + zoneSize + "&conventional=1";
    }

    @Test
    void twoZonedPathsToOneDiskMakeAZonedExport() throws Exception {
        Export e = rig.export(fastConfig("z"));
        e.addPath(path("a"), rig.fileDriver(zoned(img, "64KiB")));
        e.addPath(path("b"), rig.fileDriver(zoned(link, "64KiB")));
        TestRig.startLive(e);
        assertNotNull(e.zones());
        assertEquals(ZoneModel.HOST_MANAGED, e.zones().model());
        assertEquals(8, e.zones().zoneCount());
        assertEquals(64 * KIB, e.zones().zoneSize());
    }

    @Test
    void aPlainExportStaysUnzoned() throws Exception {
        Export e = rig.export(fastConfig("plain"));
        e.addPath(path("a"), rig.fileDriver(img));
        TestRig.startLive(e);
        assertNull(e.zones());
        var r = e.zoneControl().report(0, 4096).get(10, TimeUnit.SECONDS);
        assertEquals("export plain is not zoned", r.failure().message());
    }

    @Test
    void aZonedPathInAPlainExportIsRefusedNamingIt() throws Exception {
        java.nio.file.Path other = rig.image("other.img", 512 * KIB);
        Export e = rig.export(fastConfig("mixed"));
        Path a = e.addPath(path("a"), rig.faulty(other).changeInfo(i -> withIdentity(i, "disk-1")));
        e.start().get(10, TimeUnit.SECONDS);
        Path z = e.addPath(path("zoned"), rig.faulty(zoned(img, "64KiB")).changeInfo(i -> withIdentity(i, "disk-1")));
        Await.until("zoned path refused", () -> z.state() == PathState.REFUSED);
        assertTrue(z.lastError().contains("path zoned reaches a zoned disk")
                && z.lastError().contains("cannot mix zoned and non-zoned"), z.lastError());
        assertEquals(PathState.LIVE, a.state());
        assertNull(e.zones());
    }

    @Test
    void aPlainPathInAZonedExportIsRefusedNamingIt() throws Exception {
        java.nio.file.Path other = rig.image("other.img", 512 * KIB);
        Export e = rig.export(fastConfig("mixed2"));
        e.addPath(path("a"), rig.faulty(zoned(img, "64KiB")).changeInfo(i -> withIdentity(i, "disk-1")));
        e.start().get(10, TimeUnit.SECONDS);
        Path plain = e.addPath(path("plain"), rig.faulty(other).changeInfo(i -> withIdentity(i, "disk-1")));
        Await.until("plain path refused", () -> plain.state() == PathState.REFUSED);
        assertTrue(plain.lastError().contains("path plain reaches a disk that is not zoned"), plain.lastError());
        assertNotNull(e.zones());
    }

    @Test
    void anotherZoneLayoutIsRefused() throws Exception {
        java.nio.file.Path other = rig.image("other.img", 512 * KIB);
        Export e = rig.export(fastConfig("layout"));
        e.addPath(path("a"), rig.faulty(zoned(img, "64KiB")).changeInfo(i -> withIdentity(i, "disk-1")));
        e.start().get(10, TimeUnit.SECONDS);
        Path b = e.addPath(path("b"), rig.faulty(zoned(other, "128KiB")).changeInfo(i -> withIdentity(i, "disk-1")));
        Await.until("b refused", () -> b.state() == PathState.REFUSED);
        assertTrue(b.lastError().contains("zone layout mismatch: path b reports HOST_MANAGED, 4 zones of 131072"),
                b.lastError());
        assertEquals(64 * KIB, e.zones().zoneSize());
    }

    private static BackendInfo withIdentity(BackendInfo i, String id) {
        return new BackendInfo(i.size(), i.capabilities(), i.minBlockSize(), i.preferredBlockSize(), i.maxPayload(),
                id, i.description());
    }
}
