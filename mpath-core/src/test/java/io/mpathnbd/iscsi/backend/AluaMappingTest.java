package io.mpathnbd.iscsi.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mpathnbd.core.backend.AccessState;
import io.mpathnbd.iscsi.scsi.DeviceIdentification;
import io.mpathnbd.iscsi.scsi.TargetPortGroups;
import io.netty.buffer.Unpooled;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/**
 * Which access state a path gets from REPORT TARGET PORT GROUPS. tgt has no ALUA, so the answers here are
 * CONSTRUCTED byte for byte after SPC-4 (6.36 and 7.8.6), in the shape a two-controller array sends: not recorded
 * from a real target.
 */
class AluaMappingTest {

    /** Constructed RTPG answer, extended header: group 1 active/optimized with port 1, group 2 with port 2. */
    private static TargetPortGroups groups(int stateOfGroup2) {
        byte[] b = {
            0, 0, 0, 28,            // return data length: 4 + 2 * 12
            0x10, 60, 0, 0,         // format 1 (extended header), implicit transition time 60 s
            (byte) 0x80, 0x0f, 0, 1, 0, 0, 0, 1,   // PREF, AO; supports T/O/U/S/AN/AO bits; group 1; 1 port
            0, 0, 0, 1,                            // relative port 1
            (byte) stateOfGroup2, 0x0f, 0, 2, 0, 0, 0, 1,  // group 2, 1 port
            0, 0, 0, 2,                            // relative port 2
        };
        return TargetPortGroups.parse(Unpooled.wrappedBuffer(b));
    }

    /** Constructed VPD 0x83: an NAA LU designator, relative target port and target port group designators. */
    private static DeviceIdentification page83(int relativePort, int group) {
        byte[] b = {
            0, (byte) 0x83, 0, 32,
            0x01, 0x03, 0, 16,      // binary, LU association, NAA, 16 bytes
            0x60, 0x01, 0x40, 0x50, 0x12, 0x34, 0x56, 0x78, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, (byte) 0x88,
            0x01, 0x14, 0, 4, 0, 0, 0, (byte) relativePort,  // target port association, relative target port
            0x01, 0x15, 0, 4, 0, 0, 0, (byte) group,         // target port association, target port group
        };
        b[3] = (byte) (b.length - 4);
        return DeviceIdentification.parse(Unpooled.wrappedBuffer(b));
    }

    private static AccessState stateOf(TargetPortGroups g, DeviceIdentification id) {
        return AluaStates.of(g, id.relativeTargetPort(), id.targetPortGroup()).state();
    }

    @Test
    void thePathGetsTheStateOfTheGroupHoldingItsPort() {
        assertEquals("naa.60014050123456781122334455667788", page83(1, 1).identity());
        assertEquals(AccessState.OPTIMIZED, stateOf(groups(0x01), page83(1, 1)));
        assertEquals(AccessState.NON_OPTIMIZED, stateOf(groups(0x01), page83(2, 2)));
        assertEquals(AccessState.STANDBY, stateOf(groups(0x02), page83(2, 2)));
        assertEquals(AccessState.UNAVAILABLE, stateOf(groups(0x03), page83(2, 2)));
        assertEquals(AccessState.NON_OPTIMIZED, stateOf(groups(0x04), page83(2, 2)), "LBA-dependent carries I/O");
        assertEquals(AccessState.OFFLINE, stateOf(groups(0x0e), page83(2, 2)));
        assertEquals(AccessState.TRANSITIONING, stateOf(groups(0x0f), page83(2, 2)));
    }

    @Test
    void byPortGroupWhenThePortIsNotListedAndUnavailableWhenNothingMatches() {
        TargetPortGroups g = groups(0x02);
        assertEquals(AccessState.STANDBY, AluaStates.of(g, OptionalInt.of(9), OptionalInt.of(2)).state());
        AluaStates.Result none = AluaStates.of(g, OptionalInt.of(9), OptionalInt.empty());
        assertEquals(AccessState.UNAVAILABLE, none.state());
        assertEquals("unavailable (port 9 is in no reported target port group)", none.describe());
        assertEquals("standby (port group 2: standby)", AluaStates.of(g, OptionalInt.of(2), OptionalInt.empty())
                .describe());
    }
}
