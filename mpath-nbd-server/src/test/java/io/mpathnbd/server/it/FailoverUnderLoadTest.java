package io.mpathnbd.server.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mpathnbd.core.path.PathState;
import io.mpathnbd.testing.peers.Images;
import io.mpathnbd.testing.peers.Nbdkit;
import io.mpathnbd.testing.peers.Tools;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * fio with crc32c verification through a two-path export while one backend is killed and restarted, and while one
 * is hung (SIGSTOP, and nbdkit's pause filter): the client must see no error at all, and the paths come back.
 */
class FailoverUnderLoadTest {
    private static final Logger LOG = LoggerFactory.getLogger(FailoverUnderLoadTest.class);
    private static final long SIZE = 256L << 20;

    @Test
    void killedAndRestartedBackendIsInvisibleToTheClient(@TempDir Path dir) throws Exception {
        Tools.require("nbdkit", "fio");
        Path image = Images.sparse(dir, "disk.img", SIZE);
        Nbdkit b = null;
        try (Nbdkit a = Nbdkit.builder().dir(dir.resolve("a")).file(image).start()) {
            b = Nbdkit.builder().dir(dir.resolve("b")).file(image).start();
            int portB = b.port();
            try (GatewayRig rig = GatewayRig.start("  iopolicy: round-robin\n", List.of(a.uri(), b.uri()))) {
                Process fio = GatewayRig.startVerifiedWrites(dir, "failover", rig.uri(), SIZE / 2, 12);
                Thread.sleep(2500);
                LOG.info("killing backend b (pid {})", b.pid());
                b.kill();
                rig.awaitState(1, PathState.FAILED, Duration.ofSeconds(5));
                Thread.sleep(2500);
                b = Nbdkit.builder().dir(dir.resolve("b2")).port(portB).file(image).start();
                LOG.info("restarted backend b on port {}", portB);
                rig.awaitState(1, PathState.LIVE, Duration.ofSeconds(10));
                JsonNode job = GatewayRig.finishVerifiedWrites(fio, dir, 90);
                LOG.info("kill/restart: worst completion latency {} ms", GatewayRig.worstLatencyMillis(job));
                assertTrue(rig.export().failovers() >= 1, "a failover must have been counted");
                rig.awaitAllLive(Duration.ofSeconds(10));
                assertTrue(rig.path(1).requests() > 0, rig.describePaths());
            }
        } finally {
            if (b != null) {
                b.close();
            }
        }
    }

    @Test
    void hungBackendIsInvisibleToTheClient(@TempDir Path dir) throws Exception {
        Tools.require("nbdkit", "fio");
        Path image = Images.sparse(dir, "disk.img", SIZE);
        Nbdkit a = Nbdkit.builder().dir(dir.resolve("a")).file(image).start();
        Nbdkit b = Nbdkit.builder().dir(dir.resolve("b")).pause().file(image).start();
        try (GatewayRig rig = GatewayRig.start("  iopolicy: round-robin\n", List.of(a.uri(), b.uri()))) {
            int portA = a.port();
            int portB = b.port();
            Process fio = GatewayRig.startVerifiedWrites(dir, "failover", rig.uri(), SIZE / 2, 14);
            Thread.sleep(2000);
            LOG.info("hanging backend a with SIGSTOP");
            a.stop();
            Thread.sleep(3000);
            a.cont();
            // nbdkit 1.32 can abort (raw_send_socket assertion) when it resumes onto connections the gateway reset
            // meanwhile; then it is restarted, as an operator would. Either way the client must see no error.
            Thread.sleep(500);
            if (!a.isAlive()) {
                LOG.info("nbdkit a exited after SIGCONT; restarting it");
                a.close();
                a = Nbdkit.builder().dir(dir.resolve("a2")).port(portA).file(image).start();
            }
            rig.awaitState(0, PathState.LIVE, Duration.ofSeconds(10));
            Thread.sleep(1000);
            LOG.info("hanging backend b with the pause filter");
            b.pause();
            Thread.sleep(3000);
            // resuming has the same nbdkit abort, so the paused backend is replaced instead
            b.kill();
            b.close();
            b = Nbdkit.builder().dir(dir.resolve("b2")).port(portB).file(image).start();
            JsonNode job = GatewayRig.finishVerifiedWrites(fio, dir, 90);
            double worst = GatewayRig.worstLatencyMillis(job);
            LOG.info("hangs: worst completion latency {} ms", worst);
            // a hung path is detected by the 1 s request timeout; fence delay and retry add little on top
            assertTrue(worst < 5000, "worst latency " + worst + " ms");
            assertTrue(rig.export().failovers() >= 2, "two failovers expected: " + rig.export().failovers());
            rig.awaitAllLive(Duration.ofSeconds(10));
        } finally {
            a.close();
            b.close();
        }
    }
}
