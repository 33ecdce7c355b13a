package io.mpathnbd.core.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** SPC-4 type codes, and how a reservation conflict is classified. */
class ReservationTypeTest {

    @Test
    void typesCarryTheirSpcCodes() {
        int[] codes = new int[ReservationType.values().length];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = ReservationType.values()[i].spcCode();
            assertEquals(ReservationType.values()[i], ReservationType.ofSpcCode(codes[i]));
        }
        assertEquals("[1, 3, 5, 6, 7, 8]", java.util.Arrays.toString(codes));
        assertThrows(IllegalArgumentException.class, () -> ReservationType.ofSpcCode(2));
        assertTrue(ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY.forRegistrants());
        assertFalse(ReservationType.EXCLUSIVE_ACCESS.forRegistrants());
    }

    @Test
    void aReservationConflictIsATargetErrorOfItsOwnKind() {
        Failure f = Failure.reservationConflict("RESERVATION CONFLICT");
        assertEquals(FailureKind.RESERVATION_CONFLICT, f.kind());
        assertTrue(f.isTargetError());
        assertFalse(f.isPathError());
        ControlResult<Void> r = ControlResult.failed(f);
        assertFalse(r.succeeded());
        assertFalse(r.isPathError());
        assertTrue(ControlResult.failed(Failure.timeout("slow")).isPathError());
        assertEquals(7L, ControlResult.ok(7L).value());
        assertThrows(IllegalStateException.class, r::value);
    }
}
