package io.mpathnbd.server.cli;

import static io.mpathnbd.server.GatewayTestSupport.adminAddress;
import static io.mpathnbd.server.GatewayTestSupport.awaitState;
import static io.mpathnbd.server.GatewayTestSupport.fileUri;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.backend.FailureKind;
import io.mpathnbd.core.backend.ReservationOps;
import io.mpathnbd.core.backend.ReservationType;
import io.mpathnbd.core.path.PathState;
import io.mpathnbd.server.Gateway;
import io.mpathnbd.server.GatewayTestSupport;
import io.mpathnbd.server.OtherInitiator;
import io.mpathnbd.server.config.ConfigException;
import io.mpathnbd.server.config.GatewayConfig;
import io.mpathnbd.testing.Tgtd;
import io.mpathnbd.testing.peers.Images;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mpath-nbd pr} against a gateway whose export reaches a real tgtd LUN through two portals, every effect
 * checked from a second, independent initiator (its own name and session); and the bad input that must change
 * nothing on the target.
 */
class PrCliTest {
    private static final long A = 0xa1a2a3a4a5a6a7a8L;
    private static final String A_TEXT = "0xa1a2a3a4a5a6a7a8";
    private static final long B = 0xb1L;
    private static final ReservationType WE_RO = ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY;

    @TempDir
    Path dir;
    private Tgtd tgtd;
    private Gateway gateway;
    private OtherInitiator other;
    private String admin;

    @BeforeEach
    void setUp() throws Exception {
        tgtd = Tgtd.start(Images.sparse(dir, "lun.img", 16L << 20));
        Path local = GatewayTestSupport.image(dir, "local.img");
        gateway = Gateway.start(GatewayConfig.parse("listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\n"
                + "defaults:\n  iopolicy: round-robin\n  io-timeout: 2s\n  reconnect-min: 50ms\n"
                + "  reconnect-max: 500ms\n"
                + "exports:\n  - name: disk\n    paths:\n      - " + tgtd.uri(0) + "\n      - " + tgtd.uri(1) + "\n"
                + "  - name: local\n    paths:\n      - " + fileUri(local) + "\n"));
        admin = adminAddress(gateway);
        awaitState(gateway.export("disk"), "p0", PathState.LIVE);
        awaitState(gateway.export("disk"), "p1", PathState.LIVE);
        other = new OtherInitiator(tgtd.uri(0), "iqn.2026-12.io.mpathnbd.test:other-host");
    }

    @AfterEach
    void tearDown() {
        if (other != null) {
            other.close();
        }
        if (gateway != null) {
            gateway.close();
        }
        if (tgtd != null) {
            tgtd.close();
        }
    }

    private CliRun pr(String... args) {
        String[] all = new String[args.length + 3];
        all[0] = "pr";
        all[1] = "--admin";
        all[2] = admin;
        System.arraycopy(args, 0, all, 3, args.length);
        return CliRun.of(all);
    }

    private CliRun ok(String... args) {
        CliRun r = pr(args);
        assertEquals(0, r.exitCode(), r.toString());
        return r;
    }

    private CliRun fails(int exit, String... args) {
        CliRun r = pr(args);
        assertEquals(exit, r.exitCode(), r.toString());
        return r;
    }

    @Test
    void everyCommandThroughTwoPortalsSeenFromAnotherInitiator() throws Exception {
        CliRun caps = ok("disk", "capabilities");
        assertTrue(caps.out().startsWith("disk: types write-exclusive exclusive-access write-exclusive-registrants-only"
                + " exclusive-access-registrants-only write-exclusive-all-registrants"
                + " exclusive-access-all-registrants\n"), caps.out());
        assertTrue(caps.out().contains("  all-target-ports: no\n"), caps.out());
        assertTrue(ok("disk", "read-keys").out().matches("disk: generation \\d+, 0 registered keys\n"));

        // REGISTER on every path: the disk lists our key once per nexus
        CliRun reg = ok("disk", "register", A_TEXT);
        assertEquals("disk: register: ok\n  path p0: ok\n  path p1: ok\n", reg.out());
        assertEquals(List.of(A, A), other.keys());
        CliRun keys = ok("disk", "read-keys");
        assertTrue(keys.out().endsWith(" 2 registered keys\n  " + A_TEXT + "\n  " + A_TEXT + "\n"), keys.out());
        JsonNode json = new ObjectMapper().readTree(ok("disk", "read-keys", "--json").out());
        assertEquals(A_TEXT, json.path("keys").path(1).asText(), json.toString());
        assertEquals("registered", gateway.reservations(gateway.export("disk")).state());

        // RESERVE through one path: the other host sees it and may no longer write; we still may, on both paths
        assertEquals("disk: reserve: ok\n", ok("disk", "reserve", "write-exclusive-registrants-only").out());
        assertEquals(new ReservationOps.Holder(A, WE_RO), other.holder());
        Failure refused = other.writeRefused(0);
        assertEquals(FailureKind.RESERVATION_CONFLICT, refused.kind(), refused.toString());
        long p0 = gateway.export("disk").path("p0").requests();
        long p1 = gateway.export("disk").path("p1").requests();
        GatewayTestSupport.writeAndVerify(GatewayTestSupport.nbdUri(gateway, "disk"), 0, 0x5a).assertOk();
        assertTrue(gateway.export("disk").path("p0").requests() > p0
                && gateway.export("disk").path("p1").requests() > p1, "the writes went over both paths");
        // again: the disk answers GOOD, or a conflict the gateway reads back as our own reservation
        assertTrue(ok("disk", "reserve", "write-exclusive-registrants-only").out().startsWith("disk: reserve: ok\n"));
        assertEquals(new ReservationOps.Holder(A, WE_RO), other.holder());
        assertEquals("disk: generation " + json.path("generation").asLong() + ", reserved: key " + A_TEXT
                + ", type write-exclusive-registrants-only\n", ok("disk", "read-reservation").out());

        // PREEMPT another host's key: its registration is gone, our reservation stays
        OtherInitiator.ok(other.pr().register(0, B, false));
        assertEquals(List.of(A, A, B), other.keys());
        assertEquals("disk: preempt: ok\n", ok("disk", "preempt", "0xb1").out());
        assertEquals(List.of(A, A), other.keys());
        assertEquals(new ReservationOps.Holder(A, WE_RO), other.holder());

        // tgt refuses PREEMPT AND ABORT: said as such, nothing changed
        OtherInitiator.ok(other.pr().register(0, B, false));
        CliRun abort = fails(1, "disk", "preempt", "0xb1", "--abort");
        assertTrue(abort.err().contains("unsupported by the target"), abort.toString());
        assertEquals(List.of(A, A, B), other.keys());

        // RELEASE on every path
        assertEquals("disk: release: ok\n  path p0: ok\n  path p1: ok\n", ok("disk", "release").out());
        assertNull(other.holder());
        assertTrue(ok("disk", "release").out().contains("note: no reservation is held"));

        // CLEAR through one path: every registration goes, ours too
        ok("disk", "reserve", "exclusive-access");
        assertEquals(new ReservationOps.Holder(A, ReservationType.EXCLUSIVE_ACCESS), other.holder());
        assertTrue(ok("disk", "clear").out().startsWith("disk: clear: ok\n"));
        assertEquals(List.of(), other.keys());
        assertNull(other.holder());
        assertTrue(fails(1, "disk", "unregister").err().contains("has no key registered"));

        // unregister takes our key off every path
        ok("disk", "register", "0xA1A2A3A4A5A6A7A8");
        assertEquals(List.of(A, A), other.keys());
        assertEquals("disk: unregister: ok\n  path p0: ok\n  path p1: ok\n", ok("disk", "unregister").out());
        assertEquals(List.of(), other.keys());
        assertEquals("none", gateway.reservations(gateway.export("disk")).state());
    }

    @Test
    void aPathAddedLaterIsRegisteredBeforeItCarriesIo() throws Exception {
        ok("disk", "register", A_TEXT);
        ok("disk", "reserve", "write-exclusive-registrants-only");
        String status = CliRun.of("status", "--admin", admin, "disk").out();
        assertTrue(status.contains(" reservation-key=" + A_TEXT + " reservation=registered"), status);
        assertEquals(0, CliRun.of("path", "remove", "--admin", admin, "disk", "p1").exitCode());
        GatewayTestSupport.await("p1 removed", java.time.Duration.ofSeconds(30),
                () -> gateway.export("disk").path("p1") == null);
        CliRun add = CliRun.of("path", "add", "--admin", admin, "--id", "late", "disk", tgtd.uri(1));
        assertEquals(0, add.exitCode(), add.toString());
        awaitState(gateway.export("disk"), "late", PathState.LIVE);
        // the removed path's ended session leaves its registration behind on tgt; the new one has its own
        assertEquals(List.of(A, A, A), other.keys());
        io.mpathnbd.core.path.Path late = gateway.export("disk").path("late");
        assertEquals("registered", gateway.reservations(gateway.export("disk")).registration(late));
        long before = late.requests();
        GatewayTestSupport.writeAndVerify(GatewayTestSupport.nbdUri(gateway, "disk"), 1 << 20, 0x6b).assertOk();
        assertTrue(late.requests() > before, "the added path carried writes under the reservation");
        assertEquals(0, gateway.export("disk").reservationConflicts());
        JsonNode paths = new ObjectMapper().readTree(GatewayTestSupport.http(gateway, "GET", "/api/exports/disk/paths",
                null).body());
        assertEquals("registered", paths.path(1).path("registration").asText(), paths.toString());
    }

    @Test
    void preemptingOurOwnKeyRegistersOurOtherPathsAgain() {
        ok("disk", "register", A_TEXT);
        ok("disk", "reserve", "write-exclusive-registrants-only");
        CliRun self = ok("disk", "preempt", A_TEXT);
        assertTrue(self.out().startsWith("disk: preempt: ok\n"), self.out());
        assertTrue(self.out().contains("note: our own key preempted; registered again on every usable path"),
                self.out());
        assertEquals(List.of(A, A), other.keys());
        assertEquals(new ReservationOps.Holder(A, WE_RO), other.holder());
        long p0 = gateway.export("disk").path("p0").requests();
        long p1 = gateway.export("disk").path("p1").requests();
        GatewayTestSupport.writeAndVerify(GatewayTestSupport.nbdUri(gateway, "disk"), 2 << 20, 0x7e).assertOk();
        assertTrue(gateway.export("disk").path("p0").requests() > p0
                && gateway.export("disk").path("p1").requests() > p1, "both paths carried writes");
        assertEquals(0, gateway.export("disk").reservationConflicts());
    }

    @Test
    void aReservationHeldThroughANexusThatIsGoneIsReleasedByTakingItOver() {
        ok("disk", "register", A_TEXT);
        ok("disk", "reserve", "write-exclusive");
        cutGatewaySessions();
        // tgt keeps the ended sessions' registrations, and the reservation with the old holder
        assertEquals(List.of(A, A, A, A), other.keys());
        assertEquals(new ReservationOps.Holder(A, ReservationType.WRITE_EXCLUSIVE), other.holder());

        CliRun release = ok("disk", "release");
        assertTrue(release.out().startsWith("disk: release: ok\n  path p0: ok\n  path p1: ok\n"), release.out());
        assertTrue(release.out().contains("note: the reservation was held through a nexus of ours that is gone"),
                release.out());
        assertNull(other.holder());
        assertEquals(List.of(A, A), other.keys(), "the leftovers are gone, both live nexuses registered");
        assertEquals(0, gateway.export("disk").held(), "I/O resumed");
    }

    /** Cuts the gateway's sessions on the target (not the other host's) and waits until both paths are back. */
    private void cutGatewaySessions() {
        long failures = gateway.export("disk").pathFailures();
        for (Tgtd.Connection c : tgtd.connections()) {
            if (!c.initiator().equals("iqn.2026-12.io.mpathnbd.test:other-host")) {
                tgtd.tgtadm("--op", "delete", "--mode", "conn", "--tid", "1", "--sid", Long.toString(c.sid()),
                        "--cid", Long.toString(c.cid()));
            }
        }
        GatewayTestSupport.await("the cut seen", java.time.Duration.ofSeconds(30),
                () -> gateway.export("disk").pathFailures() >= failures + 2);
        awaitState(gateway.export("disk"), "p0", PathState.LIVE);
        awaitState(gateway.export("disk"), "p1", PathState.LIVE);
    }

    @Test
    void aKeyFromAFileIsRegisteredButNeverLoggedOrShown() throws Exception {
        long key = 0x5ec2e7f11e0000aaL;
        Path file = java.nio.file.Files.writeString(dir.resolve("prkey"), "0x5EC2E7F11E0000AA\n");
        io.mpathnbd.server.LogCapture logs = new io.mpathnbd.server.LogCapture();
        logs.attach();
        try (Gateway g = Gateway.start(GatewayConfig.parse("listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\n"
                + "exports:\n  - name: secret\n    reservation-key-file: " + file + "\n    paths:\n      - "
                + tgtd.uri(0) + "\n      - " + tgtd.uri(1) + "\n"))) {
            awaitState(g.export("secret"), "p0", PathState.LIVE);
            awaitState(g.export("secret"), "p1", PathState.LIVE);
            assertEquals(List.of(key, key), other.keys(), "registered on both paths at start");
            String status = CliRun.of("status", "--admin", adminAddress(g)).out();
            assertTrue(status.contains("reservation-key=(from reservation-key-file) reservation=registered"), status);
            assertEquals(0, CliRun.of("pr", "--admin", adminAddress(g), "secret", "reserve", "exclusive-access")
                    .exitCode());
            String json = CliRun.of("status", "--json", "--admin", adminAddress(g)).out();
            for (String text : List.of(status, json, String.join("\n", logs.lines()))) {
                assertTrue(!text.toLowerCase(java.util.Locale.ROOT).contains("5ec2e7f11e"), text);
            }
        } finally {
            logs.detach();
        }
    }

    @Test
    void optionsTgtRefusesAreReportedAsUnsupportedByTheTarget() {
        CliRun full = fails(1, "disk", "read-full-status");
        assertTrue(full.err().contains("READ FULL STATUS is unsupported by the target"), full.toString());
        // REPORT CAPABILITIES says tgt has neither: refused before anything is sent
        CliRun aptpl = fails(1, "disk", "register", A_TEXT, "--aptpl");
        assertTrue(aptpl.err().contains("REGISTER with APTPL is unsupported by the target (REPORT CAPABILITIES:"
                + " PTPL_C 0)"), aptpl.toString());
        CliRun all = fails(1, "disk", "register", A_TEXT, "--all-target-ports");
        assertTrue(all.err().contains("REGISTER with ALL_TG_PT is unsupported by the target (REPORT CAPABILITIES:"
                + " ATP_C 0)"), all.toString());
        assertEquals(List.of(), other.keys(), "nothing registered");
        assertEquals("none", gateway.reservations(gateway.export("disk")).state());
        assertTrue(fails(2, "disk", "reserve", "write-exclusive", "--aptpl").err()
                .contains("--aptpl is an option of register"));
        ok("disk", "register", A_TEXT);
        OtherInitiator.ok(other.pr().register(0, B, false));
        CliRun abort = fails(1, "disk", "preempt", "0xb1", "--abort");
        assertTrue(abort.err().contains("PREEMPT AND ABORT is unsupported by the target"), abort.toString());
        assertEquals(List.of(A, A, B), other.keys());
    }

    @Test
    void theAdminApiRefusesBadInputWith400() throws Exception {
        var bad = GatewayTestSupport.http(gateway, "POST", "/api/exports/disk/reservation/register", "{\"key\": \"0x\"}");
        assertEquals(400, bad.statusCode(), bad.body());
        assertTrue(bad.body().contains("is not a reservation key"), bad.body());
        var type = GatewayTestSupport.http(gateway, "POST", "/api/exports/disk/reservation/reserve",
                "{\"type\": \"shared\"}");
        assertEquals(400, type.statusCode(), type.body());
        var action = GatewayTestSupport.http(gateway, "POST", "/api/exports/disk/reservation/steal", null);
        assertEquals(404, action.statusCode(), action.body());
        var get = GatewayTestSupport.http(gateway, "GET", "/api/exports/disk/reservation/register", null);
        assertEquals(405, get.statusCode(), get.body());
        var local = GatewayTestSupport.http(gateway, "GET", "/api/exports/local/reservation/keys", null);
        assertEquals(409, local.statusCode(), local.body());
        assertEquals(List.of(), other.keys());
    }

    @Test
    void badInputIsRefusedAndChangesNothing() {
        CliRun key = fails(2, "disk", "register", "0x12g4");
        assertTrue(key.err().contains("'0x12g4' is not a reservation key"), key.toString());
        assertTrue(fails(2, "disk", "register", "12").err().contains("write it as 0x"));
        assertTrue(fails(2, "disk", "register").err().contains("pr register needs a KEY"));
        CliRun type = fails(2, "disk", "reserve", "write-exclusive-sometimes");
        assertTrue(type.err().contains("unknown reservation type 'write-exclusive-sometimes' (types: write-exclusive,"),
                type.toString());
        assertTrue(fails(2, "disk", "reserve-all").err().contains("unknown pr action 'reserve-all'"));
        assertTrue(fails(2, "disk", "release", "--abort").err().contains("--abort is an option of preempt"));
        assertTrue(fails(2, "disk", "clear", "0x1").err().contains("takes no argument"));
        assertEquals(List.of(), other.keys(), "nothing reached the target");

        // an export with a path without reservations: the error names the path
        CliRun local = fails(1, "local", "read-keys");
        assertTrue(local.err().contains("path p0 (file:") && local.err().contains("has no persistent reservations"),
                local.toString());
        assertTrue(fails(1, "local", "register", A_TEXT).err().contains("path p0 (file:"));
        assertTrue(fails(1, "nosuch", "read-keys").err().contains("no export named 'nosuch'"));

        // no usable path: a clear error, and nothing registered once paths come back
        assertEquals(0, CliRun.of("path", "fail", "--admin", admin, "disk", "p0").exitCode());
        assertEquals(0, CliRun.of("path", "fail", "--admin", admin, "disk", "p1").exitCode());
        awaitState(gateway.export("disk"), "p0", PathState.DISABLED);
        awaitState(gateway.export("disk"), "p1", PathState.DISABLED);
        CliRun none = fails(1, "disk", "register", A_TEXT);
        assertTrue(none.err().contains("has no live path"), none.toString());
        assertTrue(fails(1, "disk", "read-keys").err().contains("has no live path"));
        assertEquals(0, CliRun.of("path", "reinstate", "--admin", admin, "disk", "p0").exitCode());
        assertEquals(0, CliRun.of("path", "reinstate", "--admin", admin, "disk", "p1").exitCode());
        awaitState(gateway.export("disk"), "p0", PathState.LIVE);
        awaitState(gateway.export("disk"), "p1", PathState.LIVE);
        assertEquals(List.of(), other.keys(), "the failed register left no key behind");
        assertEquals("none", gateway.reservations(gateway.export("disk")).state());
    }

    @Test
    void aKeyWithAPathWithoutReservationsIsRefused() {
        Path local = GatewayTestSupport.image(dir, "other.img");
        ConfigException start = assertThrows(ConfigException.class, () -> Gateway.start(GatewayConfig.parse(
                "listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nexports:\n  - name: mixed\n    reservation-key: 0xa1\n"
                        + "    paths:\n      - " + tgtd.uri(0) + "\n      - " + fileUri(local) + "\n")));
        assertTrue(start.getMessage().startsWith("export 'mixed': exports[0].paths[1] (path p1, file:"),
                start.getMessage());
        assertTrue(start.getMessage().contains("has no persistent reservations"), start.getMessage());

        // path add of such a path to an export with a key
        ok("disk", "register", A_TEXT);
        CliRun add = CliRun.of("path", "add", "--admin", admin, "disk", fileUri(local));
        assertEquals(1, add.exitCode(), add.toString());
        assertTrue(add.err().contains("has no persistent reservations"), add.toString());
        assertEquals(2, gateway.export("disk").paths().size());
    }
}
