package io.mpathnbd.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.ReservationType;
import io.mpathnbd.core.path.PathState;
import io.mpathnbd.core.reservation.ExportReservations;
import io.mpathnbd.core.reservation.PrOutcome;
import io.mpathnbd.server.GatewayTestSupport;
import io.mpathnbd.server.LogCapture;
import io.mpathnbd.testing.Tgtd;
import io.mpathnbd.testing.peers.Images;
import io.mpathnbd.testing.peers.Tools;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ghost write, on a real tgtd through two portals, with a real NBD client (qemu-io): path 0 reaches portal 0
 * through a {@link FakeDelayingNetwork} (the one fake: no real peer can delay bytes on loopback), path 1 reaches
 * portal 1 directly; path 0 is nearer, so the numa iopolicy sends everything there while it is live. Each trial:
 * the network starts holding path 0's bytes; qemu-io writes pattern A to a block (held on path 0, timed out, fenced,
 * retried on path 1, acknowledged), then pattern B to the same block (path 1); then the network delivers the held
 * bytes to tgtd, and the block is read from tgtd's backing file, independently of the gateway.
 *
 * <p>With {@code fence: reservation} (a write-exclusive registrants-only reservation held by our key) the hung
 * nexus's registration is preempted before A is retried, so the late A is refused (tgt answers the preempted nexus
 * UNIT ATTENTION 2A/03 first, then RESERVATION CONFLICT): the block holds B in every trial. With {@code fence: delay} the late A lands on top of B: the test shows it, so it can fail.
 */
class GhostWriteTest {
    private static final Logger LOG = LoggerFactory.getLogger(GhostWriteTest.class);
    private static final long SIZE = 64L << 20;
    private static final int TRIALS = 20;
    private static final int FALLBACK_TRIALS = 3;
    private static final int BLOCK = 4096;
    private static final Duration EVENT = Duration.ofSeconds(60);
    private static final String DEFAULTS = "  reservation-key: 0x6d70617468000002\n"
            + "  failback: immediate\n";
    private static final String ISCSI = "iscsi:\n  abort-timeout: 250ms\n  nop-interval: 30s\n  nop-timeout: 30s\n";

    /** What one mode's trials showed. */
    record Tally(int trials, int stale, int newer, List<String> lateAnswers) {
    }

    @Test
    void withTheReservationFenceTheLateWriteMeetsReservationConflict(@TempDir Path dir) throws Exception {
        Tally t = trials(dir, "reservation");
        LOG.info("fence: reservation: {} trials, {} stale writes landed, {} kept the newer data; late answers {}",
                t.trials(), t.stale(), t.newer(), t.lateAnswers());
        assertEquals(0, t.stale(), "a late write landed despite the reservation fence: " + t);
        assertEquals(TRIALS, t.newer(), t.toString());
        // tgt answers the preempted nexus's late write CHECK CONDITION (UNIT ATTENTION 2A/03, reservations
        // preempted: the command did not run; a retry would meet RESERVATION CONFLICT), never GOOD
        assertTrue(t.lateAnswers().stream().noneMatch(x -> x.contains("0x21/0x00*")), t.toString());
    }

    @Test
    void withTheDelayFenceTheLateWriteLands(@TempDir Path dir) throws Exception {
        Tally t = trials(dir, "delay");
        LOG.info("fence: delay: {} trials, {} stale writes landed, {} kept the newer data; late answers {}",
                t.trials(), t.stale(), t.newer(), t.lateAnswers());
        assertTrue(t.stale() > 0, "no late write landed: the test cannot tell the fences apart: " + t);
        assertEquals(TRIALS, t.stale() + t.newer(), t.toString());
    }

    /**
     * {@code fence: reservation} while no reservation is held: the disk would refuse no nexus, so the gateway falls
     * back to the reset and the fence delay, logs why once per failed path and counts it; the late write lands, as
     * failover.md says it can.
     */
    @Test
    void withoutARegistrantsReservationTheFenceFallsBackAndSaysWhy(@TempDir Path dir) throws Exception {
        LogCapture logs = new LogCapture();
        logs.attach();
        Tally t;
        try {
            t = trials(dir, "reservation", false, FALLBACK_TRIALS);
        } finally {
            logs.detach();
        }
        LOG.info("fence: reservation without a reservation: {} trials, {} stale writes landed", t.trials(),
                t.stale());
        assertEquals(FALLBACK_TRIALS, logs.lines().stream().filter(l -> l.contains("cannot be fenced by reservation"
                + " (no reservation is held, so the disk refuses no nexus); falling back to the reset and the fence"
                + " delay of 100 ms")).count(), "logged once per failed path: " + logs.lines());
        assertTrue(t.stale() > 0, t.toString());
    }

    /**
     * {@code fence: reservation} on a single-path export: when its path hangs there is no healthy path to preempt
     * through, so the write is not retried blindly: it falls back to the reset and the fence delay (logged, counted)
     * and is then held until the path comes back, and completes once it has.
     */
    @Test
    void withNoHealthyPathTheFenceFallsBackAndSaysWhy(@TempDir Path dir) throws Exception {
        Tools.require("qemu-io");
        Path image = Images.sparse(dir, "lun.img", SIZE);
        try (Tgtd tgtd = Tgtd.start(image);
                FakeDelayingNetwork net = new FakeDelayingNetwork(tgtd.portal(0))) {
            String viaNet = "iscsi://127.0.0.1:" + net.port() + "/" + Tgtd.IQN + "/1";
            LogCapture logs = new LogCapture();
            logs.attach();
            try (GatewayRig rig = GatewayRig.start(DEFAULTS + "  fence: reservation\n", ISCSI, List.of(viaNet))) {
                rig.awaitAllLive(EVENT);
                PrOutcome<Void> reserved = rig.gateway().reservations(rig.export())
                        .reserve(ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY)
                        .get(EVENT.toMillis(), TimeUnit.MILLISECONDS);
                assertTrue(reserved.succeeded(), String.valueOf(reserved.failure()));
                net.holdCurrent();
                java.util.concurrent.CompletableFuture<Tools.Result> write = java.util.concurrent.CompletableFuture
                        .supplyAsync(() -> Tools.run(GatewayTestSupport.TOOL_TIMEOUT, "qemu-io", "-f", "raw", "-c",
                                "write -P 0x77 0 " + BLOCK, rig.uri()));
                GatewayRig.await(EVENT, () -> rig.export().storageFenceFallbacks() == 1,
                        () -> "no fallback counted: " + rig.describePaths());
                // after the fence delay the write waits for a path, not retried blindly
                GatewayRig.await(EVENT, () -> rig.export().held() == 1,
                        () -> "the write is not held: " + rig.describePaths());
                assertTrue(!write.isDone(), "the write did not complete without a path");
                net.heal(); // the held bytes are lost; the path comes back
                Tools.Result r = write.get(EVENT.toMillis(), TimeUnit.MILLISECONDS);
                assertTrue(r.ok() && !r.stdout().contains("error"), r.describe());
                assertEquals(0x77, blockPattern(image, 0));
                assertEquals(0, rig.export().storageFences());
            } finally {
                logs.detach();
            }
            assertEquals(1, logs.lines().stream().filter(l -> l.contains("cannot be fenced by reservation (READ"
                    + " RESERVATION through a healthy path failed:")).count(), "logged once, why: " + logs.lines());
        }
    }

    private static Tally trials(Path dir, String fence) throws Exception {
        return trials(dir, fence, true, TRIALS);
    }

    private static Tally trials(Path dir, String fence, boolean reserve, int count) throws Exception {
        Tools.require("qemu-io");
        Path image = Images.sparse(dir, "lun.img", SIZE);
        try (Tgtd tgtd = Tgtd.start(image);
                FakeDelayingNetwork net = new FakeDelayingNetwork(tgtd.portal(0))) {
            String viaNet = "{uri: \"iscsi://127.0.0.1:" + net.port() + "/" + Tgtd.IQN + "/1\", distance: 0}";
            String direct = "{uri: \"" + tgtd.uri(1) + "\", distance: 1}";
            try (GatewayRig rig = GatewayRig.start(DEFAULTS + "  fence: " + fence + "\n", ISCSI,
                    List.of(viaNet, direct))) {
                rig.awaitAllLive(EVENT);
                ExportReservations pr = rig.gateway().reservations(rig.export());
                if (reserve) {
                    PrOutcome<Void> reserved = pr.reserve(ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY)
                            .get(EVENT.toMillis(), TimeUnit.MILLISECONDS);
                    assertTrue(reserved.succeeded(), String.valueOf(reserved.failure()));
                }
                int stale = 0;
                int newer = 0;
                List<String> answers = new ArrayList<>();
                for (int trial = 0; trial < count; trial++) {
                    long offset = (long) trial * 65536;
                    int a = 0xa0 + (trial % 16);
                    int b = 0x50 + (trial % 16);
                    long failures = rig.export().pathFailures();
                    net.holdCurrent();
                    Tools.Result r = Tools.run(GatewayTestSupport.TOOL_TIMEOUT, "qemu-io", "-f", "raw",
                            "-c", String.format("write -P 0x%02x %d %d", a, offset, BLOCK),
                            "-c", String.format("write -P 0x%02x %d %d", b, offset, BLOCK), rig.uri());
                    assertTrue(r.ok() && !r.stdout().contains("error"), r.describe());
                    assertTrue(rig.export().pathFailures() > failures && net.heldBytes() > 0,
                            "write A was not held on path 0: " + rig.describePaths());
                    net.deliverHeld();
                    List<String> late = net.awaitTargetAnswer(EVENT);
                    assertTrue(!late.isEmpty(), "tgtd did not answer the held bytes");
                    int found = blockPattern(image, offset);
                    if (found == a) {
                        stale++;
                    } else if (found == b) {
                        newer++;
                    } else {
                        throw new AssertionError("trial " + trial + ": the block holds neither A nor B: " + found);
                    }
                    answers.add((found == a ? "stale:" : "newer:") + String.join(",", late));
                    LOG.info("fence {} trial {}: block holds {} after the late delivery; tgtd answered {}", fence,
                            trial, found == a ? "A (stale)" : "B (newer)", late);
                    net.heal();
                    rig.awaitState(0, PathState.LIVE, EVENT);
                }
                if (fence.equals("reservation") && reserve) {
                    assertEquals(count, rig.export().storageFences(), "one fencing per failed path");
                    assertEquals(0, rig.export().storageFenceFallbacks());
                } else if (fence.equals("reservation")) {
                    assertEquals(0, rig.export().storageFences());
                    assertEquals(count, rig.export().storageFenceFallbacks(), "one fallback per failed path");
                } else {
                    assertEquals(0, rig.export().storageFences());
                    assertEquals(0, rig.export().storageFenceFallbacks());
                }
                // the fenced path registered again before it carries I/O: a write through it meets no conflict
                long before = rig.path(0).requests();
                GatewayTestSupport.writeAndVerify(rig.uri(), SIZE / 2, 0x3c).assertOk();
                assertTrue(rig.path(0).requests() > before, "the write went through path 0: " + rig.describePaths());
                assertEquals(0, rig.export().reservationConflicts(), "no write of the client met a conflict");
                return new Tally(count, stale, newer, answers);
            }
        }
    }

    /** The byte every byte of the block at {@code offset} holds in tgtd's backing file, or -1 if they differ. */
    private static int blockPattern(Path image, long offset) throws Exception {
        byte[] block = new byte[BLOCK];
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "r")) {
            f.seek(offset);
            f.readFully(block);
        }
        int first = block[0] & 0xff;
        for (byte x : block) {
            if ((x & 0xff) != first) {
                return -1;
            }
        }
        return first;
    }
}
