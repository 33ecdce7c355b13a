package io.mpathnbd.server.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mpathnbd.core.request.Extents;
import io.mpathnbd.core.zone.Zone;
import io.mpathnbd.core.zone.ZoneCondition;
import io.mpathnbd.core.zone.ZoneType;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The x-mpath extents from zone reports: cut to the requested range, one only with REQ_ONE. */
class ZoneExtentsTest {
    private static final int Z = 4096;
    private static final List<Zone> ZONES = List.of(
            new Zone(0, Z, Z, Z, ZoneType.CONVENTIONAL, ZoneCondition.NOT_WRITE_POINTER),
            new Zone(Z, Z, Z, Z + 1024, ZoneType.SEQUENTIAL_WRITE_REQUIRED, ZoneCondition.IMPLICIT_OPEN),
            new Zone(2 * Z, Z, Z, 3 * Z, ZoneType.SEQUENTIAL_WRITE_REQUIRED, ZoneCondition.FULL),
            new Zone(3 * Z, Z, Z, 3 * Z, ZoneType.SEQUENTIAL_WRITE_REQUIRED, ZoneCondition.EMPTY));

    private static String show(Extents e) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < e.count(); i++) {
            sb.append(e.length(i)).append(':').append(e.flags(i)).append(' ');
        }
        return sb.toString().trim();
    }

    @Test
    void writePointerExtentsEndAtEachPointerAndZoneEnd() {
        assertEquals("4096:2 1024:1 3072:0 4096:1 4096:0", show(ZoneExtents.writePointer(ZONES, 0, 4 * Z, false)));
        // from the middle of zone 1 to the middle of zone 3
        assertEquals("512:1 3072:0 4096:1 2048:0", show(ZoneExtents.writePointer(ZONES, Z + 512, 2 * Z + 2048 - 512,
                false)));
        assertEquals("512:1", show(ZoneExtents.writePointer(ZONES, Z + 512, 3 * Z, true)));
    }

    @Test
    void typeConditionIsOnePerZone() {
        assertEquals("4096:16 4096:34 4096:46 4096:33", show(ZoneExtents.typeCondition(ZONES, 0, 4 * Z, false)));
        assertEquals("100:34", show(ZoneExtents.typeCondition(ZONES, Z + 100, 100, false)));
        assertEquals("4096:16", show(ZoneExtents.typeCondition(ZONES, 0, 4 * Z, true)));
    }
}
