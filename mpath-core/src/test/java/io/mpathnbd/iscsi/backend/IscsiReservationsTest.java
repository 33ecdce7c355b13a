package io.mpathnbd.iscsi.backend;

import static io.mpathnbd.iscsi.backend.IscsiHarness.get;
import static io.mpathnbd.iscsi.backend.IscsiHarness.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.ControlResult;
import io.mpathnbd.core.backend.DriverOptions;
import io.mpathnbd.core.backend.FailureKind;
import io.mpathnbd.core.backend.ReservationOps;
import io.mpathnbd.core.backend.ReservationType;
import io.mpathnbd.core.backend.TransportOptions;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.testing.Tgtd;
import io.mpathnbd.testing.peers.Images;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PERSISTENT RESERVE IN and OUT against a real tgtd, from two independent initiators (own names, own sessions, so
 * own nexuses): what one does, the other reads back or is refused by.
 */
class IscsiReservationsTest {
    private static final long A = 0xA1A2A3A4A5A6A7A8L;
    private static final long B = 0xB1L;
    private static final ReservationType WE_RO = ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY;

    @TempDir
    Path dir;

    private Tgtd tgtd;
    private IscsiHarness harness;
    private ReservationOps a;
    private ReservationOps b;
    private IscsiBackendSession bSession;

    @BeforeEach
    void setUp() throws Exception {
        tgtd = Tgtd.start(Images.sparse(dir, "lun1.img", 4L << 20));
        harness = new IscsiHarness();
        a = initiator("iqn.2026-12.io.mpathnbd.test:node-a", 0).reservations();
        bSession = initiator("iqn.2026-12.io.mpathnbd.test:node-b", 1);
        b = bSession.reservations();
    }

    @AfterEach
    void tearDown() {
        harness.close();
        tgtd.close();
    }

    private IscsiBackendSession initiator(String name, int portal) {
        DriverOptions o = DriverOptions.defaults().withTransport(
                TransportOptions.of(Map.of(IscsiOptions.INITIATOR_NAME, name)));
        return harness.connect(harness.driver(tgtd.uri(portal), o));
    }

    private static <T> T ok(java.util.concurrent.CompletableFuture<ControlResult<T>> f) {
        ControlResult<T> r = get(f);
        assertTrue(r.succeeded(), r.toString());
        return r.value();
    }

    private static FailureKind fails(java.util.concurrent.CompletableFuture<? extends ControlResult<?>> f) {
        ControlResult<?> r = get(f);
        assertFalse(r.succeeded(), "expected a failure");
        return r.failure().kind();
    }

    /**
     * A reservation command the target never answers is a TIMEOUT, not a lost path: the export tells a hung path
     * from a dead one by it. NOP-Outs are off so that the keepalive cannot end the session first.
     */
    @Test
    void aCommandTheHungTargetNeverAnswersIsATimeout() {
        DriverOptions o = DriverOptions.defaults().withRequestTimeout(java.time.Duration.ofSeconds(1))
                .withTransport(TransportOptions.of(Map.of(IscsiOptions.INITIATOR_NAME,
                        "iqn.2026-12.io.mpathnbd.test:node-hung", IscsiOptions.NOP_INTERVAL, "PT0S",
                        IscsiOptions.ABORT_TIMEOUT, "PT1S")));
        ReservationOps hung = harness.connect(harness.driver(tgtd.uri(0), o)).reservations();
        ok(hung.readKeys()); // answered while the target runs
        tgtd.stop();
        try {
            ControlResult<?> r = get(hung.readKeys());
            assertFalse(r.succeeded(), "a stopped target answered");
            assertEquals(FailureKind.TIMEOUT, r.failure().kind(), r.failure().message());
        } finally {
            tgtd.resume();
        }
    }

    @Test
    void capabilitiesAsTgtReportsThem() {
        ReservationOps.Capabilities c = ok(a.reportCapabilities());
        assertEquals(EnumSet.allOf(ReservationType.class), c.types());
        assertFalse(c.compatibleReservationHandling() || c.specifyInitiatorPorts() || c.allTargetPorts()
                || c.persistThroughPowerLoss(), c.toString());
    }

    @Test
    void tgtRefusesReadFullStatusAptplAndAllTargetPortsAsUnsupported() {
        ControlResult<ReservationOps.FullStatus> full = get(a.readFullStatus());
        assertEquals(FailureKind.TARGET, full.failure().kind(), full.toString());
        assertEquals(Errno.ENOTSUP, full.failure().errno());
        for (ReservationOps.RegisterFlags flags : List.of(new ReservationOps.RegisterFlags(true, false),
                new ReservationOps.RegisterFlags(false, true))) {
            ControlResult<Void> r = get(a.register(0, A, false, flags));
            assertEquals(Errno.ENOTSUP, r.failure().errno(), r.toString());
            assertTrue(r.failure().message().contains("REGISTER with " + flags), r.toString());
        }
        assertEquals(List.of(), ok(b.readKeys()).keys(), "nothing registered");
        ok(a.register(0, A, false, ReservationOps.RegisterFlags.NONE));
        assertEquals(List.of(A), ok(b.readKeys()).keys());
    }

    @Test
    void registerReserveConflictPreemptReleaseClearSeenFromBothNexuses() {
        ReservationOps.Keys none = ok(b.readKeys());
        assertEquals(List.of(), none.keys());
        assertFalse(ok(b.readReservation()).reserved());

        ok(a.register(0, A, false));
        ok(b.register(0, B, false));
        ReservationOps.Keys both = ok(b.readKeys());
        assertEquals(List.of(A, B), both.keys());
        assertTrue(both.generation() > none.generation(), "registrations bump PRGENERATION");

        // a REGISTER with the wrong old key conflicts; IGNORE EXISTING KEY replaces it
        assertEquals(FailureKind.RESERVATION_CONFLICT, fails(a.register(0, A, false)));
        ok(a.register(0, A, true));

        ok(a.reserve(A, WE_RO));
        ReservationOps.Status held = ok(b.readReservation());
        assertEquals(new ReservationOps.Holder(A, WE_RO), held.holder());
        assertEquals(FailureKind.RESERVATION_CONFLICT, fails(b.reserve(B, ReservationType.EXCLUSIVE_ACCESS)));

        // tgt refuses PREEMPT AND ABORT as ILLEGAL REQUEST: unsupported, not a path error
        ControlResult<Void> abort = get(b.preempt(B, A, WE_RO, true));
        assertEquals(FailureKind.TARGET, abort.failure().kind(), abort.toString());
        assertEquals(Errno.ENOTSUP, abort.failure().errno());

        ok(b.preempt(B, A, WE_RO, false));
        assertEquals(new ReservationOps.Holder(B, WE_RO), ok(a.readReservation()).holder()); // after a's unit attention
        assertEquals(List.of(B), ok(a.readKeys()).keys());
        // a, no longer registered, may not write under a registrants-only reservation; b may
        io.mpathnbd.core.backend.Failure refused = write(harness.connect(harness.driver(tgtd.uri(0),
                DriverOptions.defaults())), 0, 0, new byte[512]).assertFailed();
        // its own kind on the I/O path too: the export counts it and fails no path for it
        assertEquals(FailureKind.RESERVATION_CONFLICT, refused.kind(), refused.toString());
        assertTrue(refused.isTargetError() && refused.errno() == Errno.EPERM, refused.toString());
        assertTrue(write(bSession, 0, 0, new byte[512]).ok());

        ok(b.release(B, WE_RO));
        assertFalse(ok(a.readReservation()).reserved());
        ok(a.register(0, A, false));
        ok(b.clear(B));
        assertEquals(List.of(), ok(a.readKeys()).keys());
    }
}
