package io.mpathnbd.core.export;

import static io.mpathnbd.core.support.TestRig.path;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.BackendInfo;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.path.PathState;
import io.mpathnbd.core.support.Await;
import io.mpathnbd.core.support.TestRig;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Paths whose transport has no identity (NBD) may join an export whose identity the operator configured (how NBD and
 * iSCSI paths share one disk); without a configured identity they may not join one whose first path had one. The
 * identity-less sessions are the fault-injecting driver's changed info (a fake: it removes the file identity).
 */
class ConfiguredIdentityTest {
    private static final int MIB = 1 << 20;

    @TempDir
    java.nio.file.Path dir;

    private TestRig rig;
    private java.nio.file.Path img;

    @BeforeEach
    void setUp() throws Exception {
        rig = new TestRig(dir);
        img = rig.image("disk.img", 4 * MIB);
    }

    @AfterEach
    void tearDown() {
        rig.close();
    }

    private static BackendInfo anonymous(BackendInfo i) {
        return new BackendInfo(i.size(), i.capabilities(), i.minBlockSize(), i.preferredBlockSize(), i.maxPayload(),
                null, i.description());
    }

    private String identityOfImage() throws Exception {
        return rig.fileDriver(img).connect().get(5, TimeUnit.SECONDS).info().identity();
    }

    @Test
    void aConfiguredIdentityAdmitsPathsWithoutOne() throws Exception {
        String id = identityOfImage();
        Export e = rig.export(new ExportConfig("mixed", null, "numa", java.time.Duration.ofSeconds(5), false, 8,
                java.time.Duration.ofMillis(50), java.time.Duration.ofSeconds(5), FailbackMode.IMMEDIATE,
                java.time.Duration.ofMillis(10), java.time.Duration.ofMillis(40), java.time.Duration.ofHours(1),
                java.time.Duration.ofMillis(10), id));
        Path named = e.addPath(path("named"), rig.fileDriver(img));
        Path anon = e.addPath(path("anon"), rig.faulty(img).changeInfo(ConfiguredIdentityTest::anonymous));
        TestRig.startLive(e);
        assertEquals(PathState.LIVE, named.state());
        assertEquals(PathState.LIVE, anon.state());
        assertEquals(id, e.identity());
    }

    @Test
    void withoutAConfiguredIdentityAPathWithoutOneIsRefused() throws Exception {
        Export e = rig.export(TestRig.fastConfig("unconfigured"));
        Path named = e.addPath(path("named"), rig.fileDriver(img));
        e.start().get(10, TimeUnit.SECONDS);
        Path anon = e.addPath(path("anon"), rig.faulty(img).changeInfo(ConfiguredIdentityTest::anonymous));
        Await.until("anonymous path refused", () -> anon.state() == PathState.REFUSED);
        assertTrue(anon.lastError().contains("no identity"), anon.lastError());
        assertEquals(PathState.LIVE, named.state());
    }
}
