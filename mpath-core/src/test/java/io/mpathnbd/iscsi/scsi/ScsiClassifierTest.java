package io.mpathnbd.iscsi.scsi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.backend.FailureKind;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.core.zone.ZoneError;
import io.mpathnbd.iscsi.scsi.ScsiClassifier.Action;
import io.mpathnbd.iscsi.scsi.ScsiClassifier.Classification;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every row of the classification table in ISCSI-CONTRACTS.md. */
class ScsiClassifierTest {

    /**
     * status, sense (key/asc/ascq in hex, "-" for none), action, errno, rereadAlua, reservationChanged, delayed.
     * Sense given as key/asc/ascq is built as fixed-format sense (the format tgt sends).
     */
    @ParameterizedTest(name = "{0} {1} -> {2} {3}")
    @CsvSource({
        "0x00, -,        OK,              0,  false, false, false",
        "0x04, -,        OK,              0,  false, false, false",
        "0x08, -,        RETRY_SAME_PATH, 5,  false, false, true",
        "0x28, -,        RETRY_SAME_PATH, 5,  false, false, true",
        "0x18, -,        RESERVATION_CONFLICT, 1, false, false, false",
        "0x02, 6/29/00,  RETRY_SAME_PATH, 5,  true,  false, false",
        "0x02, 6/29/03,  RETRY_SAME_PATH, 5,  true,  false, false",
        "0x02, 6/2A/06,  RETRY_SAME_PATH, 5,  true,  false, false",
        "0x02, 6/2A/07,  RETRY_SAME_PATH, 5,  true,  false, false",
        "0x02, 6/2A/03,  RETRY_SAME_PATH, 5,  false, true,  false",
        "0x02, 6/2A/04,  RETRY_SAME_PATH, 5,  false, true,  false",
        "0x02, 6/2A/05,  RETRY_SAME_PATH, 5,  false, true,  false",
        "0x02, 6/2A/09,  RETRY_SAME_PATH, 5,  false, false, false",
        "0x02, 6/3F/0E,  RETRY_SAME_PATH, 5,  false, false, false",
        "0x02, 2/04/0A,  RETRY_SAME_PATH, 5,  true,  false, true",
        "0x02, 2/04/0B,  PATH,            5,  true,  false, false",
        "0x02, 2/04/0C,  PATH,            5,  true,  false, false",
        "0x02, 2/04/01,  PATH,            5,  false, false, false",
        "0x02, 2/3A/00,  PATH,            5,  false, false, false",
        "0x02, 5/21/00,  TARGET,          22, false, false, false",
        "0x02, 5/20/00,  TARGET,          22, false, false, false",
        "0x02, 5/24/00,  TARGET,          22, false, false, false",
        "0x02, 5/26/00,  TARGET,          22, false, false, false",
        "0x02, 7/27/00,  TARGET,          1,  false, false, false",
        "0x02, 7/27/07,  TARGET,          28, false, false, false",
        "0x02, 3/11/00,  TARGET,          5,  false, false, false",
        "0x02, 4/44/00,  TARGET,          5,  false, false, false",
        "0x02, B/47/00,  PATH,            5,  false, false, false",
        "0x02, B/00/00,  PATH,            5,  false, false, false",
        "0x02, -,        PATH,            5,  false, false, false",
        "0x40, -,        PATH,            5,  false, false, false",
        "0x30, -,        PATH,            5,  false, false, false",
        "0x22, -,        PATH,            5,  false, false, false",
    })
    void table(String status, String sense, Action action, int errno, boolean alua, boolean reservation,
            boolean delayed) {
        Classification c = ScsiClassifier.classify(Integer.decode(status), sense(sense));
        assertEquals(action, c.action(), c.message());
        assertEquals(errno, c.errno(), c.message());
        assertEquals(alua, c.rereadAlua(), c.message());
        assertEquals(reservation, c.reservationChanged(), c.message());
        assertEquals(delayed, c.retryDelayNanos() > 0, c.message());
    }

    @Test
    void recordedTgtSenseClassifies() {
        Classification ua = ScsiClassifier.classify(ScsiStatus.CHECK_CONDITION,
                SenseData.parse(Hex.bytes(RecordedTgt.SENSE_UA_POWER_ON)));
        assertEquals(Action.RETRY_SAME_PATH, ua.action());
        assertTrue(ua.rereadAlua());
        Classification range = ScsiClassifier.classify(ScsiStatus.CHECK_CONDITION,
                SenseData.parse(Hex.bytes(RecordedTgt.SENSE_LBA_OUT_OF_RANGE)));
        assertEquals(new Failure(FailureKind.TARGET, Errno.EINVAL,
                "CHECK CONDITION ILLEGAL REQUEST 21/00 (logical block address out of range)"), range.toFailure());
    }

    @Test
    void toFailureMapsEachAction() {
        assertNull(ScsiClassifier.classify(ScsiStatus.GOOD, null).toFailure());
        assertEquals(new Failure(FailureKind.RETRY_SAME_PATH, Errno.EIO, "BUSY"),
                ScsiClassifier.classify(ScsiStatus.BUSY, null).toFailure());
        assertEquals(new Failure(FailureKind.RESERVATION_CONFLICT, Errno.EPERM, "RESERVATION CONFLICT"),
                ScsiClassifier.classify(ScsiStatus.RESERVATION_CONFLICT, null).toFailure());
        assertEquals(new Failure(FailureKind.PATH, Errno.EIO, "TASK ABORTED"),
                ScsiClassifier.classify(ScsiStatus.TASK_ABORTED, null).toFailure());
        assertEquals(new Failure(FailureKind.PATH, Errno.EIO, "unexpected SCSI status 0x22"),
                ScsiClassifier.classify(0x22, null).toFailure());
    }

    /** ZBC's sense codes are the disk's refusal whatever their sense key: an offline zone comes with NOT READY. */
    @ParameterizedTest
    @EnumSource(value = ZoneError.class, names = "INVALID_REQUEST", mode = EnumSource.Mode.EXCLUDE)
    void zoneSenseIsATargetErrorNamingTheZoneError(ZoneError zone) {
        byte[] fixed = {0x70, 0, (byte) zone.senseKey(), 0, 0, 0, 0, 10, 0, 0, 0, 0, (byte) zone.asc(),
                (byte) zone.ascq()};
        Classification c = ScsiClassifier.classify(ScsiStatus.CHECK_CONDITION, SenseData.parse(fixed));
        assertEquals(Action.TARGET, c.action(), c.message());
        assertEquals(zone, c.zoneError());
        Failure f = c.toFailure();
        assertEquals(FailureKind.TARGET, f.kind());
        assertEquals(zone, f.zoneError());
        assertEquals(Failure.zone(zone, "x").errno(), f.errno());
        assertEquals(Failure.zone(zone, "x").errno(), c.errno());
    }

    @Test
    void invalidFieldIsNoZoneError() {
        Classification c = ScsiClassifier.classify(ScsiStatus.CHECK_CONDITION, sense("5/24/00"));
        assertEquals(Action.TARGET, c.action());
        assertNull(c.zoneError());
        assertNull(c.toFailure().zoneError());
    }

    @Test
    void goodIsAllocationFree() {
        assertSame(ScsiClassifier.classify(ScsiStatus.GOOD, null), ScsiClassifier.classify(ScsiStatus.GOOD, null));
    }

    @Test
    void transitioningWaitsLongerThanBusy() {
        long transitioning = ScsiClassifier.classify(ScsiStatus.CHECK_CONDITION,
                sense("2/04/0A")).retryDelayNanos();
        long busy = ScsiClassifier.classify(ScsiStatus.BUSY, null).retryDelayNanos();
        assertTrue(transitioning > busy, transitioning + " vs " + busy);
    }

    @Test
    void statusNames() {
        assertEquals("CHECK CONDITION", ScsiStatus.name(ScsiStatus.CHECK_CONDITION));
        assertEquals("TASK SET FULL", ScsiStatus.name(0x28));
        assertEquals("status 0x22", ScsiStatus.name(0x22));
    }

    /** Fixed-format sense per SPC-4 4.5.3 from "key/asc/ascq" hex; null for "-". */
    private static SenseData sense(String spec) {
        if (spec.equals("-")) {
            return null;
        }
        String[] p = spec.split("/");
        return SenseData.parse(Hex.bytes("70 00 0" + p[0] + " 00000000 0a 00000000 " + p[1] + p[2] + " 00 000000"));
    }
}
