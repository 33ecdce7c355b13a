package io.mpathnbd.core.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.request.Errno;
import io.mpathnbd.core.zone.ZoneError;
import org.junit.jupiter.api.Test;

/** A zoned disk's refusal is a target error carrying which zone error it is. */
class ZoneFailureTest {

    @Test
    void zoneErrorsAreTargetErrorsWithTheirErrno() {
        int[] expected = {Errno.EIO, Errno.EIO, Errno.EPERM, Errno.EIO, Errno.ENOSPC, Errno.EINVAL};
        ZoneError[] errors = ZoneError.values();
        assertEquals(expected.length, errors.length);
        for (int i = 0; i < errors.length; i++) {
            Failure f = Failure.zone(errors[i], "refused");
            assertEquals(FailureKind.TARGET, f.kind(), errors[i].name());
            assertEquals(expected[i], f.errno(), errors[i].name());
            assertEquals(errors[i], f.zoneError());
            assertTrue(f.isTargetError());
            assertFalse(f.isPathError());
        }
    }

    @Test
    void otherFailuresCarryNoZoneError() {
        assertNull(Failure.target(Errno.EINVAL, "x").zoneError());
        assertNull(Failure.path("x").zoneError());
        assertEquals(new Failure(FailureKind.TARGET, Errno.EIO, "x"), Failure.target(Errno.EIO, "x"));
    }
}
