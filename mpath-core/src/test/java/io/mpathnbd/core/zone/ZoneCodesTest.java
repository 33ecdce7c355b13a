package io.mpathnbd.core.zone;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The model's codes against ZBC's tables (zones.md), and the layout's arithmetic. */
class ZoneCodesTest {

    @Test
    void typesAndConditionsCarryTheirZbcCodes() {
        assertEquals(1, ZoneType.CONVENTIONAL.zbcCode());
        assertEquals(2, ZoneType.SEQUENTIAL_WRITE_REQUIRED.zbcCode());
        assertEquals(3, ZoneType.SEQUENTIAL_WRITE_PREFERRED.zbcCode());
        assertThrows(IllegalArgumentException.class, () -> ZoneType.ofZbcCode(5), "gap zones are not modelled");
        int[] codes = {0x0, 0x1, 0x2, 0x3, 0x4, 0xD, 0xE, 0xF};
        ZoneCondition[] conds = ZoneCondition.values();
        for (int i = 0; i < codes.length; i++) {
            assertEquals(codes[i], conds[i].zbcCode(), conds[i].name());
            assertEquals(conds[i], ZoneCondition.ofZbcCode(codes[i]));
        }
        assertThrows(IllegalArgumentException.class, () -> ZoneCondition.ofZbcCode(5));
        assertEquals("em", ZoneCondition.EMPTY.shortName());
        assertTrue(ZoneCondition.IMPLICIT_OPEN.open() && ZoneCondition.EXPLICIT_OPEN.open());
        assertFalse(ZoneCondition.CLOSED.open());
        assertTrue(ZoneCondition.CLOSED.hasWritePointer());
        assertFalse(ZoneCondition.FULL.hasWritePointer() || ZoneCondition.OFFLINE.hasWritePointer());
    }

    @Test
    void actionsAndErrorsCarryTheirZbcCodes() {
        assertEquals(ZoneAction.CLOSE, ZoneAction.ofZbcServiceAction(1));
        assertEquals(ZoneAction.FINISH, ZoneAction.ofZbcServiceAction(2));
        assertEquals(ZoneAction.OPEN, ZoneAction.ofZbcServiceAction(3));
        assertEquals(ZoneAction.RESET, ZoneAction.ofZbcServiceAction(4));
        assertThrows(IllegalArgumentException.class, () -> ZoneAction.ofZbcServiceAction(0));
        assertEquals(ZoneError.UNALIGNED_WRITE, ZoneError.ofSense(0x21, 0x04));
        assertEquals(ZoneError.BOUNDARY_VIOLATION, ZoneError.ofSense(0x21, 0x05));
        assertEquals(ZoneError.ZONE_READ_ONLY, ZoneError.ofSense(0x27, 0x08));
        assertEquals(ZoneError.ZONE_OFFLINE, ZoneError.ofSense(0x2C, 0x0E));
        assertEquals(ZoneError.INSUFFICIENT_ZONE_RESOURCES, ZoneError.ofSense(0x55, 0x0E));
        assertNull(ZoneError.ofSense(0x24, 0x00), "INVALID FIELD IN CDB is not only about zones");
        assertNull(ZoneError.ofSense(0x21, 0x00), "LBA OUT OF RANGE");
        assertEquals(0x07, ZoneError.ZONE_READ_ONLY.senseKey(), "DATA PROTECT");
    }

    @Test
    void layoutIndexesZonesByShift() {
        ZoneLayout l = new ZoneLayout(ZoneModel.HOST_MANAGED, 1 << 20, 10, 4);
        assertEquals(0, l.zoneIndex(0));
        assertEquals(0, l.zoneIndex((1 << 20) - 1));
        assertEquals(3, l.zoneIndex(3L << 20));
        assertEquals(9L << 20, l.zoneStart(9));
        assertThrows(IllegalArgumentException.class, () -> new ZoneLayout(ZoneModel.HOST_MANAGED, 3 << 20, 10, 0));
    }

    @Test
    void aZoneKeepsItsWritePointerInside() {
        Zone z = new Zone(4096, 4096, 4096, 4096, ZoneType.SEQUENTIAL_WRITE_REQUIRED, ZoneCondition.EMPTY);
        assertEquals(8192, z.end());
        assertTrue(z.contains(8191) && !z.contains(8192));
        assertThrows(IllegalArgumentException.class,
                () -> new Zone(0, 4096, 4096, 4097, ZoneType.SEQUENTIAL_WRITE_REQUIRED, ZoneCondition.CLOSED));
        assertThrows(IllegalArgumentException.class,
                () -> new Zone(0, 4096, 8192, 0, ZoneType.SEQUENTIAL_WRITE_REQUIRED, ZoneCondition.EMPTY));
    }
}
