package io.mpathnbd.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.testing.peers.Images;
import io.mpathnbd.testing.peers.Tools;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The tgtd fixture does what its javadoc promises, checked with libiscsi's reference initiator tools. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TgtdTest {
    private static final Duration TOOL = Duration.ofSeconds(60);
    private static final long SIZE = 16 << 20;

    @TempDir
    Path tmp;

    private Path image;
    private final List<Process> initiators = new ArrayList<>();

    @BeforeEach
    void setUp() {
        for (String program : List.of("iscsi-ls", "iscsi-inq", "iscsi-perf", "iscsi-readcapacity16")) {
            if (Tools.which(program) == null) {
                throw new AssertionError(program + " is missing (Debian package libiscsi-bin)");
            }
        }
        image = Images.sparse(tmp, "lun.img", SIZE);
    }

    @AfterEach
    void stopInitiators() throws InterruptedException {
        for (Process p : initiators) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void bothPortalsServeTheTargetAndItsLun() throws Exception {
        try (Tgtd tgt = Tgtd.start(image)) {
            assertEquals(2, tgt.portalCount());
            assertEquals("127.0.0.1", tgt.portal(0).getHostString());
            assertEquals("127.0.0.2", tgt.portal(1).getHostString());
            for (int i = 0; i < 2; i++) {
                InetSocketAddress a = tgt.portal(i);
                String base = "iscsi://" + a.getHostString() + ":" + a.getPort();
                assertEquals(base + "/" + Tgtd.IQN + "/1", tgt.uri(i));
                Tools.Result ls = Tools.run(TOOL, "iscsi-ls", "-s", base).assertOk();
                assertTrue(ls.stdout().contains("Target:" + Tgtd.IQN + " Portal:" + a.getHostString() + ":"
                        + a.getPort() + ",1"), ls.describe());
                assertTrue(ls.stdout().matches("(?s).*Lun:1\\s+Type:DIRECT_ACCESS.*"), ls.describe());
                Tools.Result cap = Tools.run(TOOL, "iscsi-readcapacity16", tgt.uri(i)).assertOk();
                assertTrue(cap.stdout().contains("LOGICAL BLOCK LENGTH IN BYTES:512"), cap.describe());
                assertTrue(cap.stdout().contains("Total size:" + SIZE), cap.describe());
            }
            assertTrue(tgt.tgtadm("--op", "show", "--mode", "target").contains("Backing store path: "
                    + image.toAbsolutePath()));
        }
    }

    @Test
    void blockSizeAndPortalCountFollowTheOptions() throws Exception {
        try (Tgtd tgt = Tgtd.start(image, Tgtd.Options.defaults().blockSize(4096).extraPortals(2))) {
            assertEquals(3, tgt.portalCount());
            assertEquals("127.0.0.3", tgt.portal(2).getHostString());
            Tools.Result cap = Tools.run(TOOL, "iscsi-readcapacity16", tgt.uri(2)).assertOk();
            assertTrue(cap.stdout().contains("LOGICAL BLOCK LENGTH IN BYTES:4096"), cap.describe());
            assertTrue(cap.stdout().contains("Total size:" + SIZE), cap.describe());
        }
        try (Tgtd single = Tgtd.start(image, Tgtd.Options.defaults().extraPortals(0))) {
            assertEquals(1, single.portalCount());
        }
    }

    @Test
    void chapRefusesALoginWithoutTheSecret() throws Exception {
        try (Tgtd tgt = Tgtd.start(image, Tgtd.Options.defaults().chap("alice", "alice-secret-1"))) {
            String target = hostPort(tgt, 1) + "/" + Tgtd.IQN + "/1";
            Tools.Result none = Tools.run(TOOL, "iscsi-inq", "iscsi://" + target);
            assertNotEquals(0, none.exitCode(), none.describe());
            assertTrue(none.stderr().contains("Authentication failure"), none.describe());
            Tools.Result wrong = Tools.run(TOOL, "iscsi-inq", "iscsi://alice%wrong-secret-1@" + target);
            assertNotEquals(0, wrong.exitCode(), wrong.describe());
            assertTrue(wrong.stderr().contains("Authentication failure"), wrong.describe());
            Tools.Result right = Tools.run(TOOL, "iscsi-inq", "iscsi://alice%alice-secret-1@" + target).assertOk();
            assertTrue(right.stdout().contains("DIRECT_ACCESS"), right.describe());
            Tools.Result ls = Tools.run(TOOL, "iscsi-ls", "-s", "iscsi://alice%alice-secret-1@" + hostPort(tgt, 0));
            assertTrue(ls.stdout().matches("(?s).*Lun:1\\s+Type:DIRECT_ACCESS.*"), ls.describe());
        }
    }

    @Test
    void mutualChapMakesTheTargetProveItself() throws Exception {
        Tgtd.Options options = Tgtd.Options.defaults().chap("alice", "alice-secret-1").mutualChap("target",
                "target-secret-1");
        try (Tgtd tgt = Tgtd.start(image, options)) {
            String url = "iscsi://alice%alice-secret-1@" + hostPort(tgt, 0) + "/" + Tgtd.IQN + "/1";
            Tools.run(TOOL, "iscsi-inq", url + "?target_user=target&target_password=target-secret-1").assertOk();
            Tools.Result forged = Tools.run(TOOL, "iscsi-inq",
                    url + "?target_user=target&target_password=other-secret-1");
            assertNotEquals(0, forged.exitCode(), forged.describe());
        }
    }

    @Test
    void discoveryChapGuardsSendTargets() throws Exception {
        try (Tgtd tgt = Tgtd.start(image, Tgtd.Options.defaults().discoveryChap("finder", "finder-secret-1"))) {
            Tools.Result none = Tools.run(TOOL, "iscsi-ls", "iscsi://" + hostPort(tgt, 0));
            assertNotEquals(0, none.exitCode(), none.describe());
            assertTrue(none.stderr().contains("Authentication failure"), none.describe());
            Tools.Result right = Tools.run(TOOL, "iscsi-ls", "iscsi://finder%finder-secret-1@" + hostPort(tgt, 0))
                    .assertOk();
            assertTrue(right.stdout().contains("Target:" + Tgtd.IQN), right.describe());
            // the target itself stays open: discovery CHAP is not target CHAP
            Tools.run(TOOL, "iscsi-inq", tgt.uri(1)).assertOk();
        }
        Tgtd.Options mutual = Tgtd.Options.defaults().discoveryChap("finder", "finder-secret-1")
                .discoveryMutualChap("portal", "portal-secret-1");
        try (Tgtd tgt = Tgtd.start(image, mutual)) {
            String url = "iscsi://finder%finder-secret-1@" + hostPort(tgt, 0);
            Tools.Result right = Tools.run(TOOL, "iscsi-ls",
                    url + "?target_user=portal&target_password=portal-secret-1").assertOk();
            assertTrue(right.stdout().contains("Target:" + Tgtd.IQN), right.describe());
            Tools.Result forged = Tools.run(TOOL, "iscsi-ls",
                    url + "?target_user=portal&target_password=other-secret-1");
            assertNotEquals(0, forged.exitCode(), forged.describe());
        }
    }

    @Test
    void connectionsListASessionOnlyWhileItRuns() throws Exception {
        try (Tgtd tgt = Tgtd.start(image)) {
            assertEquals(List.of(), tgt.connections());
            String initiator = "iqn.2026-11.io.mpathnbd:tgtd-test";
            Process perf = iscsiPerf(initiator, tgt.uri(1));
            awaitTrue(() -> tgt.connections().size() == 1, () -> "one connection: " + tgt.connections());
            Tgtd.Connection c = tgt.connections().get(0);
            assertEquals(initiator, c.initiator());
            assertEquals("127.0.0.1", c.address(), "tgt shows the initiator's own address (source 127.0.0.1)");
            assertTrue(c.sid() > 0, c.toString());
            perf.destroyForcibly();
            perf.waitFor(10, TimeUnit.SECONDS);
            awaitTrue(() -> tgt.connections().isEmpty(), () -> "no connection left: " + tgt.connections());
        }
    }

    @Test
    void dropConnectionsCutsEverySession() throws Exception {
        try (Tgtd tgt = Tgtd.start(image)) {
            iscsiPerf("iqn.2026-11.io.mpathnbd:path-a", tgt.uri(0));
            iscsiPerf("iqn.2026-11.io.mpathnbd:path-b", tgt.uri(1));
            awaitTrue(() -> tgt.connections().size() == 2, () -> "two connections: " + tgt.connections());
            List<Tgtd.Connection> before = tgt.connections();
            tgt.dropConnections();
            // iscsi-perf logs in again, as a new session: the dropped ones must be gone
            List<Tgtd.Connection> after = tgt.connections();
            for (Tgtd.Connection c : before) {
                assertFalse(after.stream().anyMatch(a -> a.sid() == c.sid()), "dropped " + c + ", now " + after);
            }
        }
    }

    @Test
    void offlineRefusesLoginsUntilOnline() throws Exception {
        try (Tgtd tgt = Tgtd.start(image)) {
            tgt.offline();
            Tools.Result refused = Tools.run(TOOL, "iscsi-inq", tgt.uri(0));
            assertNotEquals(0, refused.exitCode(), refused.describe());
            assertTrue(refused.stderr().contains("Target error"), refused.describe());
            tgt.online();
            Tools.run(TOOL, "iscsi-inq", tgt.uri(0)).assertOk();
        }
    }

    @Test
    void stopHangsTheTargetUntilResume() throws Exception {
        try (Tgtd tgt = Tgtd.start(image)) {
            tgt.stop();
            Process inq = new ProcessBuilder("iscsi-inq", tgt.uri(0)).redirectErrorStream(true)
                    .redirectOutput(tmp.resolve("inq.out").toFile()).start();
            initiators.add(inq);
            assertFalse(inq.waitFor(1, TimeUnit.SECONDS), "a stopped tgtd must not answer");
            tgt.resume();
            assertTrue(inq.waitFor(30, TimeUnit.SECONDS), "the login completes after resume");
            assertEquals(0, inq.exitValue(), Files.readString(tmp.resolve("inq.out")));
        }
    }

    @Test
    void closeLeavesNoProcessAndNoFiles() throws Exception {
        Tgtd tgt = Tgtd.start(image);
        long pid = tgt.pid();
        Path dir = tgt.directory();
        assertTrue(ProcessHandle.of(pid).isPresent());
        assertTrue(Files.isDirectory(dir));
        tgt.close();
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "tgtd pid " + pid + " is gone");
        assertFalse(Files.exists(dir), dir + " is removed");
        tgt.close();
        assertTrue(Files.exists(image), "the test's image is left alone");
        assertThrows(IllegalArgumentException.class, () -> Tgtd.start(tmp.resolve("no-such.img")));
    }

    @Test
    void tgtadmFailuresThrowWithTheOutput() throws Exception {
        try (Tgtd tgt = Tgtd.start(image)) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> tgt.tgtadm("--op", "show", "--mode", "conn", "--tid", "7"));
            assertTrue(e.getMessage().contains("tgtadm"), e.getMessage());
        }
    }

    @Test
    void parsesTgtadmConnectionListing() {
        String shown = """
                Session: 3
                    Connection: 0
                        Initiator: iqn.2010-11.libiscsi:iscsi-perf
                        IP Address: 127.0.0.1
                Session: 5
                    Connection: 0
                        Initiator: iqn.2026-11.io.mpathnbd:b alias: none
                        IP Address: 127.0.0.2
                """;
        assertEquals(List.of(new Tgtd.Connection(3, 0, "iqn.2010-11.libiscsi:iscsi-perf", "127.0.0.1"),
                new Tgtd.Connection(5, 0, "iqn.2026-11.io.mpathnbd:b", "127.0.0.2")), Tgtd.parseConnections(shown));
        assertEquals(List.of(), Tgtd.parseConnections(""));
    }

    /** A long-lived libiscsi session (iscsi-perf keeps reading until killed). */
    private Process iscsiPerf(String initiatorName, String uri) throws Exception {
        Path out = tmp.resolve("perf-" + initiators.size() + ".out");
        Process p = new ProcessBuilder("iscsi-perf", "-i", initiatorName, uri).redirectErrorStream(true)
                .redirectOutput(out.toFile()).start();
        initiators.add(p);
        return p;
    }

    private static String hostPort(Tgtd tgt, int portal) {
        return tgt.portal(portal).getHostString() + ":" + tgt.portal(portal).getPort();
    }

    private static void awaitTrue(BooleanSupplier condition, java.util.function.Supplier<String> what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what.get());
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }
    }
}
