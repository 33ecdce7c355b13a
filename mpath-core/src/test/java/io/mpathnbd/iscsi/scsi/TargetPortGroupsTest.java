package io.mpathnbd.iscsi.scsi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.AccessState;
import io.mpathnbd.iscsi.scsi.TargetPortGroups.PortGroup;
import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * tgt has no ALUA, so these REPORT TARGET PORT GROUPS responses are HAND-CONSTRUCTED per SPC-4 6.36: the bytes a
 * two-controller ALUA array would send (group 1 active/optimized and preferred with relative ports 1 and 2, group 2
 * standby with port 3), in both header formats.
 */
class TargetPortGroupsTest {

    /** Length-only format: RETURN DATA LENGTH 0x1c, then two descriptors. */
    static final String LENGTH_ONLY = "0000001c"
            + " 80 8f 0001 00 00 00 02  0000 0001  0000 0002"
            + " 02 8f 0002 00 02 00 01  0000 0003";
    /** Extended header: format type 001b, implicit transition time 10 s, same two descriptors. */
    static final String EXTENDED = "00000020 10 0a 0000"
            + " 80 8f 0001 00 00 00 02  0000 0001  0000 0002"
            + " 02 8f 0002 00 02 00 01  0000 0003";

    private static final PortGroup OPTIMIZED = new PortGroup(1, Alua.ACTIVE_OPTIMIZED, true, 0x8f, List.of(1, 2));
    private static final PortGroup STANDBY = new PortGroup(2, Alua.STANDBY, false, 0x8f, List.of(3));

    @Test
    void lengthOnlyFormat() {
        ByteBuf b = Hex.buf(LENGTH_ONLY);
        TargetPortGroups t = TargetPortGroups.parse(b);
        assertEquals(new TargetPortGroups(List.of(OPTIMIZED, STANDBY), 0), t);
        assertEquals(Optional.of(OPTIMIZED), t.groupOf(2));
        assertEquals(Optional.of(STANDBY), t.groupOf(3));
        assertEquals(Optional.empty(), t.groupOf(4));
        assertEquals(AccessState.STANDBY, t.groupOf(3).orElseThrow().accessState());
        assertEquals(3, b.readerIndex());
    }

    @Test
    void extendedHeaderCarriesTransitionTime() {
        TargetPortGroups t = TargetPortGroups.parse(Hex.buf(EXTENDED));
        assertEquals(List.of(OPTIMIZED, STANDBY), t.groups());
        assertEquals(10, t.implicitTransitionSeconds());
    }

    @Test
    void truncatedResponseDropsTheCutGroupAndShowsTheDeclaredLength() {
        ByteBuf cut = Hex.truncated(LENGTH_ONLY, 4 + 8 + 8 + 4);
        TargetPortGroups t = TargetPortGroups.parse(cut);
        assertEquals(List.of(OPTIMIZED), t.groups());
        assertEquals(32, TargetPortGroups.declaredLength(cut));
        assertEquals(List.of(), TargetPortGroups.parse(Hex.truncated(LENGTH_ONLY, 10)).groups());
        assertThrows(ScsiFormatException.class, () -> TargetPortGroups.parse(Hex.truncated(LENGTH_ONLY, 3)));
    }

    @Test
    void transitioningGroupWithoutPorts() {
        TargetPortGroups t = TargetPortGroups.parse(Hex.buf("00000008 0f 80 0007 00 00 00 00"));
        assertEquals(List.of(new PortGroup(7, Alua.TRANSITIONING, false, 0x80, List.of())), t.groups());
        assertEquals(AccessState.TRANSITIONING, t.groups().get(0).accessState());
        assertTrue(t.groupOf(1).isEmpty());
    }

    @ParameterizedTest
    @CsvSource({"0, OPTIMIZED", "1, NON_OPTIMIZED", "2, STANDBY", "3, UNAVAILABLE", "4, NON_OPTIMIZED",
        "14, OFFLINE", "15, TRANSITIONING", "5, UNAVAILABLE", "13, UNAVAILABLE"})
    void aluaStateMapping(int aluaState, AccessState expected) {
        assertEquals(expected, Alua.toAccessState(aluaState));
    }
}
