package io.mpathnbd.core.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.request.Errno;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Gathering one command's legs: done once, after the last, with the failure worth reporting. */
class LegsTest {

    private static final class Recorded extends Legs {
        final List<Failure> done = new ArrayList<>();
        int calls;

        Recorded(int legs) {
            super(legs);
        }

        @Override
        void done(Failure failure) {
            calls++;
            done.add(failure);
        }
    }

    @Test
    void doneOnceAfterTheLastLegWithNoFailureWhenAllSucceeded() {
        Recorded r = new Recorded(3);
        r.legSucceeded();
        r.legSucceeded();
        assertEquals(0, r.calls);
        r.legSucceeded();
        assertEquals(1, r.calls);
        assertNull(r.done.get(0));
    }

    @Test
    void theDisksAnswerWinsOverAnEarlierPathError() {
        Recorded r = new Recorded(3);
        Failure lost = Failure.path("connection lost");
        Failure refused = Failure.reservationConflict("RESERVATION CONFLICT");
        r.legFailed(lost);
        r.legFailed(refused);
        r.legFailed(Failure.target(Errno.EIO, "later"));
        assertEquals(1, r.calls);
        assertSame(refused, r.done.get(0));
    }

    @Test
    void otherwiseTheFirstFailureToArriveIsReported() {
        Recorded r = new Recorded(3);
        Failure first = Failure.timeout("slow");
        r.legFailed(first);
        r.legSucceeded();
        r.legFailed(Failure.path("lost"));
        assertSame(first, r.done.get(0));

        Recorded t = new Recorded(2);
        Failure firstTarget = Failure.target(Errno.ENOSPC, "full");
        t.legFailed(firstTarget);
        t.legFailed(Failure.target(Errno.EIO, "second"));
        assertSame(firstTarget, t.done.get(0));
    }

    @Test
    void aCommandNeedsALeg() {
        assertThrows(IllegalArgumentException.class, () -> new Recorded(0));
    }
}
