package io.mpathnbd.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mpathnbd.core.backend.ReservationType;
import io.mpathnbd.core.reservation.PrOutcome;
import io.mpathnbd.server.FioLoad;
import io.mpathnbd.testing.Tgtd;
import io.mpathnbd.testing.peers.Images;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cost of a fencing failover, measured, not asserted: fio (4 KiB random writes, queue depth 16, 8 s)
 * through the gateway to tgtd, path 0 through a {@link FakeDelayingNetwork} that starts holding its bytes (the path
 * hangs with writes in flight), path 1 direct. Once the path has failed and the load goes on over path 1, fio stops
 * and its worst completion latency is logged ("fencing latency: ..."), once with {@code fence: reservation} and once
 * with {@code fence: delay} (fence-delay 50 ms, the default). The held bytes are dropped, not delivered. Asserted is
 * only what is not timing: fio saw no error, the path failed once, and the reservation run was fenced by reservation.
 */
class FencingLatencyTest {
    private static final Logger LOG = LoggerFactory.getLogger(FencingLatencyTest.class);
    private static final long SIZE = 64L << 20;
    private static final Duration EVENT = Duration.ofSeconds(60);
    private static final long SOME = 2000;
    /** fio's run: the hang comes once path 0 carried SOME writes, the failover well within the rest. */
    private static final Duration RUNTIME = Duration.ofSeconds(8);
    private static final String ISCSI = "iscsi:\n  abort-timeout: 250ms\n  nop-interval: 30s\n  nop-timeout: 30s\n";

    @Test
    void worstLatencyOfAFailoverWithEachFence(@TempDir Path dir) throws Exception {
        double reservation = run(dir, "reservation");
        double delay = run(dir, "delay");
        LOG.info("fencing latency: worst fio completion over a hung-path failover: fence: reservation {} ms,"
                + " fence: delay (fence-delay 50ms) {} ms (io-timeout 1s, abort-timeout 250ms)",
                String.format("%.1f", reservation), String.format("%.1f", delay));
    }

    private static double run(Path dir, String fence) throws Exception {
        Path image = Images.sparse(dir, fence + ".img", SIZE);
        try (Tgtd tgtd = Tgtd.start(image);
                FakeDelayingNetwork net = new FakeDelayingNetwork(tgtd.portal(0))) {
            String viaNet = "{uri: \"iscsi://127.0.0.1:" + net.port() + "/" + Tgtd.IQN + "/1\", distance: 0}";
            String direct = "{uri: \"" + tgtd.uri(1) + "\", distance: 1}";
            String defaults = "  reservation-key: 0x6d70617468000003\n  fence: " + fence + "\n  fence-delay: 50ms\n";
            try (GatewayRig rig = GatewayRig.start(defaults, ISCSI, List.of(viaNet, direct))) {
                rig.awaitAllLive(EVENT);
                assertEquals(Duration.ofMillis(50), rig.export().config().fenceDelay());
                PrOutcome<Void> reserved = rig.gateway().reservations(rig.export())
                        .reserve(ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY)
                        .get(EVENT.toMillis(), TimeUnit.MILLISECONDS);
                assertTrue(reserved.succeeded(), String.valueOf(reserved.failure()));
                // writes only (a verifying fio may have only reads in flight when the path hangs: nothing to fence)
                Path report = dir.resolve("fence-" + fence + "-fio.json");
                Process fio = new ProcessBuilder("fio", "--name=fence-" + fence, "--ioengine=nbd",
                        "--uri=" + rig.uri(), "--rw=randwrite", "--bs=4k", "--iodepth=16", "--size=" + SIZE / 2,
                        "--time_based", "--runtime=" + RUNTIME.toSeconds(), "--output-format=json",
                        "--output=" + report).redirectErrorStream(true)
                        .redirectOutput(dir.resolve("fence-" + fence + "-fio.log").toFile()).start();
                try {
                    rig.awaitCarrying(0, SOME, EVENT);
                    long failures = rig.export().pathFailures();
                    net.holdCurrent();
                    rig.awaitPathFailureAfter(failures, EVENT);
                    rig.awaitCarrying(1, SOME, EVENT);
                    assertTrue(fio.waitFor(RUNTIME.plus(EVENT).toSeconds(), TimeUnit.SECONDS), "fio did not end");
                } finally {
                    fio.destroyForcibly();
                }
                String fioLog = read(dir.resolve("fence-" + fence + "-fio.log"));
                assertEquals(0, fio.exitValue(), () -> "fio failed: " + fioLog);
                JsonNode job = GatewayRig.fioJson(new io.mpathnbd.testing.peers.Tools.Result(0,
                        read(report), "", List.of("fio"))).path("jobs").path(0);
                assertEquals(0, job.path("error").asInt(-1), job.toString());
                assertEquals(1, rig.export().pathFailures(), rig.describePaths());
                assertEquals(fence.equals("reservation") ? 1 : 0, rig.export().storageFences());
                assertEquals(0, rig.export().storageFenceFallbacks());
                double worst = FioLoad.worstLatencyMillis(job);
                LOG.info("fence {}: worst fio completion latency {} ms over {} writes", fence,
                        String.format("%.1f", worst), job.path("write").path("total_ios").asLong());
                net.heal();
                return worst;
            }
        }
    }

    private static String read(Path file) throws java.io.IOException {
        return java.nio.file.Files.exists(file) ? java.nio.file.Files.readString(file) : "";
    }
}
