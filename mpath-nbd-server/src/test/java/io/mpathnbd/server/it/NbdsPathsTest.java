package io.mpathnbd.server.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mpathnbd.core.path.PathState;
import io.mpathnbd.core.support.TestPki;
import io.mpathnbd.server.FioLoad;
import io.mpathnbd.testing.peers.Images;
import io.mpathnbd.testing.peers.Nbdkit;
import io.mpathnbd.testing.peers.QemuNbd;
import io.mpathnbd.testing.peers.Tools;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An export over {@code nbds://} paths end to end: nbdkit {@code --tls=require} and qemu-nbd with TLS serving one
 * image, fio with verification through the gateway while the path in use is killed; and paths whose server must be
 * refused sitting beside a good one that serves on.
 */
class NbdsPathsTest {
    private static final Logger LOG = LoggerFactory.getLogger(NbdsPathsTest.class);
    private static final long SIZE = 128L << 20;
    private static final Duration EVENT = Duration.ofSeconds(60);
    private static final long SOME = 200;

    @TempDir
    Path dir;

    private final TestPki pki = new TestPki("nbds gateway test CA");

    private String backendTls(Path clientDir) {
        return "backend-tls:\n  certificates: " + clientDir + "\n";
    }

    @Test
    void failoverBetweenNbdkitAndQemuNbdOverTls() throws Exception {
        Tools.require("nbdkit", "qemu-nbd", "fio");
        Path image = Images.sparse(dir, "disk.img", SIZE);
        Path serverDir = pki.writeDirectory(dir.resolve("server-pki"), pki.server(), null);
        Path clientDir = pki.writeDirectory(dir.resolve("client-pki"), null, pki.client("gateway"));
        try (Nbdkit kit = Nbdkit.builder().dir(dir.resolve("kit")).tls(serverDir, true).file(image).start();
                QemuNbd qemu = QemuNbd.builder().image(image).dir(dir).tls(serverDir, true).start();
                GatewayRig rig = GatewayRig.start("  iopolicy: round-robin\n", backendTls(clientDir),
                        List.of(kit.tlsUri(), qemu.tlsUri()))) {
            rig.awaitAllLive(EVENT);
            try (FioLoad fio = FioLoad.start(dir, "nbds", rig.uri(), SIZE / 2)) {
                rig.awaitCarrying(0, SOME, EVENT);
                rig.awaitCarrying(1, SOME, EVENT);
                long failures = rig.export().pathFailures();
                LOG.info("killing nbdkit (pid {}), the path both share the load with", kit.pid());
                kit.kill();
                rig.awaitState(0, PathState.FAILED, EVENT);
                rig.awaitCarrying(1, SOME, EVENT);
                JsonNode job = fio.stop();
                LOG.info("nbds failover: worst completion latency {} ms", FioLoad.worstLatencyMillis(job));
                // the kill may find the path with nothing in flight at that instant (a failure while idle, not a
                // failover): what must hold is that the failure was counted and the load went on without an error
                assertTrue(rig.export().pathFailures() > failures, "the path failure must have been counted");
            }
            // what the gateway wrote over TLS is on the disk
            Tools.Result w = Tools.run(GatewayRig.TOOL_TIMEOUT, "qemu-io", "-f", "raw", "-c",
                    "write -P 0x5a 100M 64k", rig.uri());
            assertTrue(w.ok(), w.describe());
            byte[] expected = new byte[64 * 1024];
            Arrays.fill(expected, (byte) 0x5a);
            assertArrayEquals(expected, Images.read(image, 100L << 20, expected.length));
        }
    }

    @Test
    void refusedServersStayOutWhileTheGoodPathServes() throws Exception {
        Tools.require("nbdkit", "qemu-io");
        Path image = Images.sparse(dir, "disk.img", SIZE);
        Path goodDir = pki.writeDirectory(dir.resolve("good"), pki.server(), null);
        Path otherName = pki.writeDirectory(dir.resolve("other-name"), pki.serverFor("other.example"), null);
        Path expired = pki.writeDirectory(dir.resolve("expired"), pki.expiredServer(), null);
        Path foreign = new TestPki("foreign CA").writeDirectory(dir.resolve("foreign"), new TestPki("x").server(),
                null);
        Path clientDir = pki.writeDirectory(dir.resolve("client-pki"), null, null);
        try (Nbdkit good = Nbdkit.builder().dir(dir.resolve("a")).tls(goodDir, false).file(image).start();
                Nbdkit plain = Nbdkit.builder().dir(dir.resolve("b")).file(image).start();
                Nbdkit mismatch = Nbdkit.builder().dir(dir.resolve("c")).tls(otherName, false).file(image).start();
                Nbdkit old = Nbdkit.builder().dir(dir.resolve("d")).tls(expired, false).file(image).start();
                Nbdkit unknownCa = Nbdkit.builder().dir(dir.resolve("e")).tls(foreign, false).file(image).start();
                Nbdkit wantsCert = Nbdkit.builder().dir(dir.resolve("f")).tls(goodDir, true).file(image).start();
                GatewayRig rig = GatewayRig.start(null, backendTls(clientDir), List.of(good.tlsUri(),
                        plain.tlsUri(), mismatch.tlsUri(), old.tlsUri(), unknownCa.tlsUri(),
                        wantsCert.tlsUri()))) {
            rig.awaitState(0, PathState.LIVE, EVENT);
            awaitError(rig, 1, "refused STARTTLS: NBD_REP_ERR_POLICY");
            awaitError(rig, 2, "No subject alternative names matching IP address 127.0.0.1");
            awaitError(rig, 3, "validity check failed");
            awaitError(rig, 4, "unable to find valid certification path");
            awaitError(rig, 5, "client certificate");
            Tools.Result w = Tools.run(GatewayRig.TOOL_TIMEOUT, "qemu-io", "-f", "raw", "-c",
                    "write -P 0x33 1M 64k", "-c", "read -P 0x33 1M 64k", rig.uri());
            assertTrue(w.ok() && !w.stdout().contains("Pattern verification failed"), w.describe());
            for (int i = 1; i < 6; i++) {
                assertTrue(rig.path(i).state() != PathState.LIVE, rig.describePaths());
            }
        }
    }

    private static void awaitError(GatewayRig rig, int index, String reason) {
        GatewayRig.await(EVENT, () -> rig.path(index).state() != PathState.LIVE && rig.path(index).lastError() != null
                && rig.path(index).lastError().contains(reason),
                () -> "path " + index + " without '" + reason + "': " + rig.describePaths());
    }
}
