package io.mpathnbd.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mpathnbd.core.backend.ReservationOps;
import io.mpathnbd.core.backend.ReservationType;
import io.mpathnbd.core.reservation.ExportReservations;
import io.mpathnbd.core.reservation.PrOutcome;
import io.mpathnbd.server.FioLoad;
import io.mpathnbd.server.GatewayTestSupport;
import io.mpathnbd.server.LogCapture;
import io.mpathnbd.server.OtherInitiator;
import io.mpathnbd.testing.Tgtd;
import io.mpathnbd.testing.peers.Images;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An export with a configured reservation key on a real tgtd through two portals, under fio with crc32c
 * verification, holding a registrants-only reservation (so an unregistered nexus cannot write): the key is registered
 * on every new session before its first write (no RESERVATION CONFLICT reaches fio across reconnects); and when
 * another host preempts our key, fio gets EPERM, no path fails, no session logs in again, nothing re-registers.
 */
class ReservationsUnderLoadTest {
    private static final Logger LOG = LoggerFactory.getLogger(ReservationsUnderLoadTest.class);
    private static final long SIZE = 64L << 20;
    private static final Duration EVENT = Duration.ofSeconds(60);
    private static final long SOME = 200;
    private static final long KEY = 0x6d70617468000001L;
    private static final long OTHER_KEY = 0xb2L;
    private static final String OTHER = "iqn.2026-12.io.mpathnbd.test:other-host";
    private static final ReservationType WE_RO = ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY;
    private static final String DEFAULTS = "  iopolicy: round-robin\n  reservation-key: 0x6d70617468000001\n"
            + "iscsi:\n  abort-timeout: 500ms\n  nop-interval: 1s\n  nop-timeout: 2s\n";

    private static <T> T ok(CompletableFuture<PrOutcome<T>> f) throws Exception {
        PrOutcome<T> o = f.get(EVENT.toMillis(), TimeUnit.MILLISECONDS);
        assertTrue(o.succeeded(), () -> String.valueOf(o.failure()));
        return o.value();
    }

    /** Cuts every connection of the gateway on the target, leaving the other host's session alone. */
    private static void cutGatewaySessions(Tgtd tgtd) {
        for (Tgtd.Connection c : tgtd.connections()) {
            if (!c.initiator().equals(OTHER)) {
                tgtd.tgtadm("--op", "delete", "--mode", "conn", "--tid", "1", "--sid", Long.toString(c.sid()),
                        "--cid", Long.toString(c.cid()));
            }
        }
    }

    private static Set<Long> gatewaySessions(Tgtd tgtd) {
        return tgtd.connections().stream().filter(c -> !c.initiator().equals(OTHER)).map(Tgtd.Connection::sid)
                .collect(Collectors.toSet());
    }

    @Test
    void everyReconnectedSessionIsRegisteredBeforeItsFirstWrite(@TempDir Path dir) throws Exception {
        Path image = Images.sparse(dir, "lun.img", SIZE);
        try (Tgtd tgtd = Tgtd.start(image);
                GatewayRig rig = GatewayRig.start(DEFAULTS, List.of(tgtd.uri(0), tgtd.uri(1)));
                OtherInitiator other = new OtherInitiator(tgtd.uri(0), OTHER)) {
            ExportReservations pr = rig.gateway().reservations(rig.export());
            assertEquals(List.of(KEY, KEY), other.keys(), "registered on both paths at start");
            ok(pr.reserve(WE_RO));
            assertEquals(new ReservationOps.Holder(KEY, WE_RO), other.holder());
            assertFalse(other.write(0).ok(), "an unregistered nexus may not write: the test can fail");
            try (FioLoad fio = FioLoad.start(dir, "pr-reconnect", rig.uri(), SIZE / 2)) {
                for (int round = 1; round <= 3; round++) {
                    rig.awaitCarrying(0, SOME, EVENT);
                    rig.awaitCarrying(1, SOME, EVENT);
                    long failures = rig.export().pathFailures();
                    Set<Long> before = gatewaySessions(tgtd);
                    LOG.info("round {}: cutting the gateway's sessions {}", round, before);
                    cutGatewaySessions(tgtd);
                    rig.awaitPathFailureAfter(failures, EVENT);
                    rig.awaitAllLive(EVENT);
                    assertTrue(Collections.disjoint(before, gatewaySessions(tgtd)), "new sessions, new nexuses");
                }
                rig.awaitCarrying(0, SOME, EVENT);
                rig.awaitCarrying(1, SOME, EVENT);
                fio.stop();
            }
            assertEquals(0, rig.export().reservationConflicts(), "no write met RESERVATION CONFLICT");
            // tgt keeps an ended session's registration: two per round, all ours
            List<Long> keys = other.keys();
            assertTrue(keys.size() >= 8 && keys.stream().allMatch(k -> k == KEY), keys.toString());
            assertEquals("registered", pr.state());
        }
    }

    @Test
    void releasingThroughAHolderThatIsGoneTakesItOverWithoutAConflictReachingFio(@TempDir Path dir)
            throws Exception {
        Path image = Images.sparse(dir, "lun.img", SIZE);
        try (Tgtd tgtd = Tgtd.start(image);
                GatewayRig rig = GatewayRig.start(DEFAULTS, List.of(tgtd.uri(0), tgtd.uri(1)));
                OtherInitiator other = new OtherInitiator(tgtd.uri(0), OTHER)) {
            ExportReservations pr = rig.gateway().reservations(rig.export());
            ok(pr.reserve(WE_RO));
            try (FioLoad fio = FioLoad.start(dir, "pr-release", rig.uri(), SIZE / 2)) {
                rig.awaitCarrying(0, SOME, EVENT);
                rig.awaitCarrying(1, SOME, EVENT);
                long failures = rig.export().pathFailures();
                cutGatewaySessions(tgtd); // the holder's session ends; tgt keeps its reservation
                rig.awaitPathFailureAfter(failures, EVENT);
                rig.awaitAllLive(EVENT);
                rig.awaitCarrying(0, SOME, EVENT);
                rig.awaitCarrying(1, SOME, EVENT);
                assertEquals(new ReservationOps.Holder(KEY, WE_RO), other.holder());
                PrOutcome<Void> released = pr.release().get(EVENT.toMillis(), TimeUnit.MILLISECONDS);
                assertTrue(released.succeeded(), String.valueOf(released.failure()));
                assertTrue(released.note().contains("taken over by a preempt of our own key with I/O paused"),
                        released.note());
                assertEquals(null, other.holder());
                assertEquals(List.of(KEY, KEY), other.keys(), "our leftovers gone, both live nexuses registered");
                rig.awaitCarrying(0, SOME, EVENT);
                rig.awaitCarrying(1, SOME, EVENT);
                fio.stop();
            }
            assertEquals(0, rig.export().reservationConflicts(), "no write met the moment a path was unregistered");
        }
    }

    @Test
    void fencedByAnotherHostFailsWritesWithEpermAndNothingElse(@TempDir Path dir) throws Exception {
        Path image = Images.sparse(dir, "lun.img", SIZE);
        try (Tgtd tgtd = Tgtd.start(image);
                GatewayRig rig = GatewayRig.start(DEFAULTS, List.of(tgtd.uri(0), tgtd.uri(1)));
                OtherInitiator other = new OtherInitiator(tgtd.uri(1), OTHER)) {
            ExportReservations pr = rig.gateway().reservations(rig.export());
            ok(pr.reserve(WE_RO));
            LogCapture logs = new LogCapture();
            logs.attach();
            long failures;
            Set<Long> sessions;
            String fioEnd;
            try (FioLoad fio = FioLoad.start(dir, "pr-fenced", rig.uri(), SIZE / 2)) {
                rig.awaitCarrying(0, SOME, EVENT);
                rig.awaitCarrying(1, SOME, EVENT);
                failures = rig.export().pathFailures();
                sessions = gatewaySessions(tgtd);
                LOG.info("the other host preempts our key; gateway sessions {}", sessions);
                OtherInitiator.ok(other.pr().register(0, OTHER_KEY, false));
                OtherInitiator.ok(other.pr().preempt(OTHER_KEY, KEY, WE_RO, false));
                fioEnd = fio.awaitEnd(EVENT);
            }
            logs.detach();
            assertTrue(fioEnd.contains("Operation not permitted"), fioEnd);
            assertEquals(1, logs.lines().stream().filter(l -> l.contains("refuses our I/O with RESERVATION CONFLICT"))
                    .count(), "logged once: " + logs.lines());
            // the reservation moved to the other host, and our key is gone
            assertEquals(new ReservationOps.Holder(OTHER_KEY, WE_RO), other.holder());
            assertEquals(List.of(OTHER_KEY), other.keys());
            assertEquals(new ReservationOps.Holder(OTHER_KEY, WE_RO), ok(pr.readReservation()).holder());

            long conflicts = rig.export().reservationConflicts();
            assertTrue(conflicts >= 1 && conflicts <= 64, "each refused write counted once, none retried: "
                    + conflicts);
            assertEquals(failures, rig.export().pathFailures(), "no path failed: " + rig.describePaths());
            assertEquals(sessions, gatewaySessions(tgtd), "no session logged in again");
            assertTrue(rig.export().health().serving(), "the gateway still serves");
            assertEquals("fenced", pr.state());
            String scrape = rig.gateway().metrics().scrape();
            java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                    "(?m)^mpath_export_reservation_conflicts_total\\{export=\"disk\",?\\} ([0-9.eE+]+)$").matcher(scrape);
            assertTrue(m.find(), scrape);
            assertEquals(conflicts, (long) Double.parseDouble(m.group(1)), scrape);
            HttpResponse<String> r = GatewayTestSupport.http(rig.gateway(), "GET", "/api/exports/disk", null);
            JsonNode status = new ObjectMapper().readTree(r.body()).path("reservation");
            assertEquals("fenced", status.path("state").asText(), status.toString());
            assertTrue(status.path("reason").asText().contains("RESERVATION CONFLICT"), status.toString());

            java.io.StringWriter out = new java.io.StringWriter();
            io.mpathnbd.server.cli.Main.execute(new java.io.PrintWriter(out, true),
                    new java.io.PrintWriter(new java.io.StringWriter(), true), "status", "--admin",
                    "127.0.0.1:" + rig.gateway().adminAddress().getPort());
            assertTrue(out.toString().contains(" reservation=fenced reservation-conflicts=" + conflicts)
                    && out.toString().contains("\n  FENCED: writes refused with RESERVATION CONFLICT"), out.toString());

            // a reconnect does not register our key back: the fence sticks
            cutGatewaySessions(tgtd);
            rig.awaitPathFailureAfter(failures, EVENT);
            rig.awaitAllLive(EVENT);
            assertEquals(List.of(OTHER_KEY), other.keys());
            assertEquals(conflicts, rig.export().reservationConflicts(), "no I/O, no conflict: nothing retries");

            // the operator registers again: back in, writes allowed by the registrants-only reservation
            ok(pr.register(KEY));
            assertEquals("registered", pr.state());
            assertEquals(3, other.keys().size(), other.keys().toString());
            GatewayTestSupport.writeAndVerify(rig.uri(), 0, 0x3c).assertOk();
        }
    }
}
