package io.mpathnbd.core.zone;

import static io.mpathnbd.core.zone.ZoneCondition.CLOSED;
import static io.mpathnbd.core.zone.ZoneCondition.EMPTY;
import static io.mpathnbd.core.zone.ZoneCondition.EXPLICIT_OPEN;
import static io.mpathnbd.core.zone.ZoneCondition.FULL;
import static io.mpathnbd.core.zone.ZoneCondition.IMPLICIT_OPEN;
import static io.mpathnbd.core.zone.ZoneCondition.NOT_WRITE_POINTER;
import static io.mpathnbd.core.zone.ZoneCondition.OFFLINE;
import static io.mpathnbd.core.zone.ZoneCondition.READ_ONLY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The host-managed state machine against ZBC's rules. The disk: 8 zones of 4 KiB (8 blocks of 512 bytes), the first
 * two conventional, at most 3 open.
 */
class HostManagedZonesTest {
    private static final int ZONE = 4096;
    private static final int BLOCK = 512;
    private static final ZoneSpec SPEC = ZoneSpec.of(ZONE).withConventional(2).withMaxOpen(3);

    private final HostManagedZones zones = new HostManagedZones(SPEC, 8L * ZONE, null, null);

    private static long start(int z) {
        return (long) z * ZONE;
    }

    private ZoneCondition cond(int z) {
        return zones.zone(z).condition();
    }

    private long wp(int z) {
        return zones.zone(z).writePointer();
    }

    /** A write that lands. */
    private void write(long offset, int length) {
        ZoneRefusal r = zones.beginWrite(offset, length);
        assertNull(r, () -> "write at " + offset + " refused: " + r);
        zones.endWrite(offset, length, true);
    }

    private ZoneError refusedWrite(long offset, int length) {
        ZoneRefusal r = zones.beginWrite(offset, length);
        assertNotNull(r, "write at " + offset + " was admitted");
        return r.error();
    }

    private void manage(ZoneAction a, int z) {
        ZoneRefusal r = zones.manage(a, start(z));
        assertNull(r, () -> a + " zone " + z + ": " + r);
    }

    private ZoneError refused(ZoneAction a, int z) {
        ZoneRefusal r = zones.manage(a, start(z));
        assertNotNull(r, a + " zone " + z + " was done");
        return r.error();
    }

    @Test
    void aNewDiskHasConventionalThenEmptyZones() {
        assertEquals(new ZoneLayout(ZoneModel.HOST_MANAGED, ZONE, 8, 3), zones.layout());
        List<Zone> all = zones.report(0, 8L * ZONE);
        assertEquals(8, all.size());
        assertEquals(new Zone(0, ZONE, ZONE, ZONE, ZoneType.CONVENTIONAL, NOT_WRITE_POINTER), all.get(0));
        assertEquals(new Zone(start(2), ZONE, ZONE, start(2), ZoneType.SEQUENTIAL_WRITE_REQUIRED, EMPTY),
                all.get(2));
        assertEquals(List.of(zones.zone(3), zones.zone(4)), zones.report(start(3) + 100, ZONE));
        assertNotNull(zones.checkRange(8L * ZONE, 1));
        assertNotNull(zones.checkRange(0, 0));
        assertEquals(0, zones.openZones());
    }

    @Test
    void writesOpenImplicitlyAndFillTheZone() {
        write(start(2), BLOCK);
        assertEquals(IMPLICIT_OPEN, cond(2));
        assertEquals(start(2) + BLOCK, wp(2));
        assertEquals(1, zones.openZones());
        write(start(2) + BLOCK, 3 * BLOCK);
        assertEquals(IMPLICIT_OPEN, cond(2));
        write(start(2) + 4 * BLOCK, 4 * BLOCK);
        assertEquals(FULL, cond(2));
        assertEquals(start(3), wp(2), "a full zone reports its end");
        assertEquals(0, zones.openZones(), "a full zone holds no open resource");
        assertEquals(ZoneError.UNALIGNED_WRITE, refusedWrite(start(2), BLOCK));
        assertEquals(start(3), zones.readableEnd(2));
    }

    @Test
    void aWriteNotAtTheWritePointerIsRefusedAndChangesNothing() {
        assertEquals(ZoneError.UNALIGNED_WRITE, refusedWrite(start(2) + BLOCK, BLOCK), "ahead of the pointer");
        assertEquals(EMPTY, cond(2), "a refused write opens nothing");
        write(start(2), 2 * BLOCK);
        assertEquals(ZoneError.UNALIGNED_WRITE, refusedWrite(start(2), BLOCK), "behind the pointer");
        assertEquals(ZoneError.UNALIGNED_WRITE, refusedWrite(start(2) + 3 * BLOCK, BLOCK), "ahead again");
        assertEquals(start(2) + 2 * BLOCK, wp(2));
        assertEquals(1, zones.openZones());
    }

    @Test
    void writesMustNotCrossBoundaries() {
        write(start(2), 6 * BLOCK);
        assertEquals(ZoneError.BOUNDARY_VIOLATION, refusedWrite(start(2) + 6 * BLOCK, 4 * BLOCK));
        assertEquals(start(2) + 6 * BLOCK, wp(2));
        assertEquals(ZoneError.BOUNDARY_VIOLATION, refusedWrite(start(1) + 7 * BLOCK, 2 * BLOCK),
                "conventional into sequential");
        write(start(0) + 4 * BLOCK, ZONE); // conventional zones may be spanned, and written anywhere
        write(start(1), BLOCK);
        write(start(0), BLOCK);
        assertEquals(NOT_WRITE_POINTER, cond(0));
        assertEquals(ZoneError.INVALID_REQUEST, refusedWrite(start(2) + 6 * BLOCK + 1, BLOCK), "not on blocks");
        assertEquals(ZoneError.INVALID_REQUEST, refusedWrite(start(2) + 6 * BLOCK, 100), "not whole blocks");
        assertEquals(ZoneError.INVALID_REQUEST, refusedWrite(8L * ZONE - BLOCK, 2 * BLOCK), "beyond the disk");
    }

    @Test
    void aZoneOfSmallerCapacityIsFullAtItsCapacity() {
        HostManagedZones z = new HostManagedZones(ZoneSpec.of(ZONE).withCapacity(6 * BLOCK), 2L * ZONE, null, null);
        assertEquals(6 * BLOCK, z.zone(0).capacity());
        assertEquals(ZoneError.UNALIGNED_WRITE, z.beginWrite(4 * BLOCK, BLOCK).error());
        ZoneRefusal cross = z.beginWrite(0, 7 * BLOCK);
        assertEquals(ZoneError.BOUNDARY_VIOLATION, cross.error());
        assertNull(z.beginWrite(0, 6 * BLOCK));
        z.endWrite(0, 6 * BLOCK, true);
        assertEquals(FULL, z.zone(0).condition());
        assertEquals(ZONE, z.zone(0).writePointer());
    }

    @Test
    void theLastZoneMayBeShorter() {
        HostManagedZones z = new HostManagedZones(ZoneSpec.of(ZONE), ZONE + 2 * BLOCK, null, null);
        assertEquals(2, z.zoneCount());
        Zone last = z.zone(1);
        assertEquals(2 * BLOCK, last.length());
        assertEquals(2 * BLOCK, last.capacity());
        assertNull(z.beginWrite(ZONE, 2 * BLOCK));
        z.endWrite(ZONE, 2 * BLOCK, true);
        assertEquals(FULL, z.zone(1).condition());
    }

    @Test
    void explicitOpenAndClose() {
        manage(ZoneAction.OPEN, 2);
        assertEquals(EXPLICIT_OPEN, cond(2));
        assertEquals(1, zones.openZones());
        manage(ZoneAction.OPEN, 2); // already open: success, no second count
        assertEquals(1, zones.openZones());
        manage(ZoneAction.CLOSE, 2);
        assertEquals(EMPTY, cond(2), "closing a zone with nothing written leaves it empty");
        manage(ZoneAction.OPEN, 2);
        write(start(2), BLOCK);
        assertEquals(EXPLICIT_OPEN, cond(2), "a write keeps an explicit open");
        manage(ZoneAction.CLOSE, 2);
        assertEquals(CLOSED, cond(2));
        assertEquals(0, zones.openZones());
        manage(ZoneAction.CLOSE, 2); // closing a closed zone is a success
        assertEquals(CLOSED, cond(2));
        write(start(2) + BLOCK, BLOCK);
        assertEquals(IMPLICIT_OPEN, cond(2), "a write opens a closed zone implicitly");
        manage(ZoneAction.OPEN, 2);
        assertEquals(EXPLICIT_OPEN, cond(2), "an implicit open becomes explicit");
        assertEquals(1, zones.openZones());
        manage(ZoneAction.CLOSE, 3); // empty: nothing to close
        assertEquals(EMPTY, cond(3));
        write(start(3), BLOCK);
        manage(ZoneAction.CLOSE, 3);
        assertEquals(CLOSED, cond(3), "closing an implicit open");
        manage(ZoneAction.OPEN, 3);
        assertEquals(EXPLICIT_OPEN, cond(3), "opening a closed zone");
    }

    @Test
    void finishFillsTheZoneButItsUnwrittenBlocksStayZeros() {
        manage(ZoneAction.FINISH, 2);
        assertEquals(FULL, cond(2), "finish an empty zone");
        assertEquals(start(2), zones.readableEnd(2));
        write(start(3), BLOCK);
        manage(ZoneAction.FINISH, 3);
        assertEquals(FULL, cond(3), "finish an implicit open");
        assertEquals(start(4), wp(3));
        assertEquals(start(3) + BLOCK, zones.readableEnd(3), "data still ends where the write did");
        manage(ZoneAction.OPEN, 4);
        manage(ZoneAction.FINISH, 4);
        assertEquals(FULL, cond(4), "finish an explicit open");
        write(start(5), BLOCK);
        manage(ZoneAction.CLOSE, 5);
        manage(ZoneAction.FINISH, 5);
        assertEquals(FULL, cond(5), "finish a closed zone");
        manage(ZoneAction.FINISH, 5);
        assertEquals(FULL, cond(5), "finish a full zone");
        manage(ZoneAction.OPEN, 5);
        assertEquals(FULL, cond(5), "open a full zone: nothing to do");
        manage(ZoneAction.CLOSE, 5);
        assertEquals(FULL, cond(5), "close a full zone: nothing to do");
        assertEquals(0, zones.openZones());
        assertEquals(ZoneError.UNALIGNED_WRITE, refusedWrite(start(3) + BLOCK, BLOCK), "a finished zone is full");
    }

    @Test
    void resetEmptiesEveryWritableCondition() {
        write(start(2), BLOCK); // implicit open
        manage(ZoneAction.OPEN, 3);
        write(start(3), BLOCK); // explicit open
        write(start(4), BLOCK);
        manage(ZoneAction.CLOSE, 4); // closed
        write(start(5), ZONE); // full
        for (int z = 2; z <= 5; z++) {
            manage(ZoneAction.RESET, z);
            assertEquals(EMPTY, cond(z), "zone " + z);
            assertEquals(start(z), wp(z));
            assertEquals(start(z), zones.readableEnd(z));
        }
        manage(ZoneAction.RESET, 6);
        assertEquals(EMPTY, cond(6), "reset an empty zone");
        assertEquals(0, zones.openZones());
        write(start(5), BLOCK); // written again from the start
        assertEquals(start(5) + BLOCK, wp(5));
    }

    @Test
    void anImplicitOpenAtTheLimitClosesTheLeastRecentlyWrittenImplicitZone() {
        write(start(2), BLOCK);
        write(start(3), BLOCK);
        write(start(4), BLOCK);
        write(start(2) + BLOCK, BLOCK); // zone 3 is now the least recently written
        write(start(5), BLOCK);
        assertEquals(CLOSED, cond(3));
        assertEquals(IMPLICIT_OPEN, cond(2));
        assertEquals(IMPLICIT_OPEN, cond(4));
        assertEquals(IMPLICIT_OPEN, cond(5));
        assertEquals(3, zones.openZones());
        manage(ZoneAction.OPEN, 6); // an explicit open also makes room by closing an implicit one
        assertEquals(EXPLICIT_OPEN, cond(6));
        assertEquals(CLOSED, cond(4), "zone 4 was written before 2 and 5");
        assertEquals(IMPLICIT_OPEN, cond(2));
        assertEquals(3, zones.openZones());
    }

    @Test
    void opensBeyondTheLimitOfExplicitZonesFailWithInsufficientResources() {
        manage(ZoneAction.OPEN, 2);
        manage(ZoneAction.OPEN, 3);
        manage(ZoneAction.OPEN, 4);
        assertEquals(ZoneError.INSUFFICIENT_ZONE_RESOURCES, refused(ZoneAction.OPEN, 5));
        assertEquals(EMPTY, cond(5));
        assertEquals(ZoneError.INSUFFICIENT_ZONE_RESOURCES, refusedWrite(start(5), BLOCK));
        assertEquals(start(5), wp(5));
        write(start(2), BLOCK); // open zones still take writes
        manage(ZoneAction.CLOSE, 2);
        write(start(5), BLOCK);
        assertEquals(IMPLICIT_OPEN, cond(5));
        write(start(2) + BLOCK, BLOCK); // reopening zone 2 needs a resource: implicitly open zone 5 gives it
        assertEquals(CLOSED, cond(5));
        manage(ZoneAction.OPEN, 2);
        assertEquals(ZoneError.INSUFFICIENT_ZONE_RESOURCES, refusedWrite(start(5) + BLOCK, BLOCK),
                "every open zone is explicit now");
        assertEquals(CLOSED, cond(5));
        manage(ZoneAction.FINISH, 6); // finish needs none
        assertEquals(FULL, cond(6));
    }

    @Test
    void anImplicitZoneIsClosedForAnotherOnlyOnceItsWriteEnded() throws Exception {
        manage(ZoneAction.OPEN, 3);
        manage(ZoneAction.OPEN, 4);
        assertNull(zones.beginWrite(start(2), BLOCK)); // zone 2 implicitly open, its write not ended
        CompletableFuture<ZoneRefusal> open = new CompletableFuture<>();
        Thread opener = new Thread(() -> open.complete(zones.manage(ZoneAction.OPEN, start(5))), "opener");
        opener.start();
        awaitBlocked(opener);
        assertEquals(EMPTY, cond(5), "the open waits for the write");
        assertEquals(IMPLICIT_OPEN, cond(2));
        zones.endWrite(start(2), BLOCK, true);
        assertNull(open.get(5, TimeUnit.SECONDS));
        assertEquals(EXPLICIT_OPEN, cond(5));
        assertEquals(CLOSED, cond(2), "closed once its write ended");
        assertEquals(start(2) + BLOCK, wp(2), "and the write landed");
        opener.join(5000);
    }

    /** Bounded: until {@code t} parks (on a zone's lock or waiting for room), at most 5 s. */
    private static void awaitBlocked(Thread t) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (t.getState() != Thread.State.WAITING && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(Thread.State.WAITING, t.getState(), t.getName() + " is not blocked");
    }

    @Test
    void aWriteThatDidNotLandLeavesTheWritePointer() {
        assertNull(zones.beginWrite(start(2), 2 * BLOCK));
        zones.endWrite(start(2), 2 * BLOCK, false);
        assertEquals(start(2), wp(2));
        assertEquals(IMPLICIT_OPEN, cond(2), "the zone was opened by the attempt");
        manage(ZoneAction.CLOSE, 2);
        assertEquals(EMPTY, cond(2));
        write(start(2), 2 * BLOCK); // the retry is at the pointer
        assertEquals(start(2) + 2 * BLOCK, wp(2));
    }

    @Test
    void managementNeedsASequentialZoneStart() {
        assertEquals(ZoneError.INVALID_REQUEST, refused(ZoneAction.RESET, 0), "conventional");
        assertEquals(ZoneError.INVALID_REQUEST, zones.manage(ZoneAction.OPEN, start(2) + BLOCK).error());
        assertEquals(ZoneError.INVALID_REQUEST, zones.manage(ZoneAction.RESET, start(8)).error());
        assertEquals(ZoneError.INVALID_REQUEST, zones.manage(ZoneAction.RESET, -ZONE).error());
    }

    @Test
    void readOnlyAndOfflineZonesRefuseWritesAndManagement() {
        HostManagedZones z = new HostManagedZones(SPEC.withReadOnly(Set.of(3)).withOffline(Set.of(4)), 8L * ZONE,
                null, null);
        assertEquals(READ_ONLY, z.zone(3).condition());
        assertEquals(OFFLINE, z.zone(4).condition());
        assertEquals(start(4), z.zone(3).writePointer(), "no write pointer: the zone's end");
        assertEquals(ZoneError.ZONE_READ_ONLY, z.beginWrite(start(3), BLOCK).error());
        assertEquals(ZoneError.ZONE_OFFLINE, z.beginWrite(start(4), BLOCK).error());
        for (ZoneAction a : ZoneAction.values()) {
            assertEquals(ZoneError.ZONE_READ_ONLY, z.manage(a, start(3)).error(), a.name());
            assertEquals(ZoneError.ZONE_OFFLINE, z.manage(a, start(4)).error(), a.name());
        }
        assertEquals(start(3), z.readableEnd(3), "a read-only zone reads");
        assertEquals(-1, z.readableEnd(4), "an offline zone does not");
        for (ZoneAction a : ZoneAction.values()) {
            assertNull(z.manageAll(a), a.name());
        }
        assertEquals(READ_ONLY, z.zone(3).condition(), "ALL leaves read-only zones alone");
        assertEquals(OFFLINE, z.zone(4).condition());
    }

    @Test
    void theAllVariantsActOnTheirConditionsOnly() {
        write(start(2), BLOCK); // implicit open
        manage(ZoneAction.OPEN, 3); // explicit open, empty
        write(start(4), BLOCK);
        manage(ZoneAction.CLOSE, 4); // closed
        write(start(5), ZONE); // full
        assertNull(zones.manageAll(ZoneAction.CLOSE));
        assertEquals(List.of(CLOSED, EMPTY, CLOSED, FULL, EMPTY),
                List.of(cond(2), cond(3), cond(4), cond(5), cond(6)));
        assertNull(zones.manageAll(ZoneAction.OPEN));
        assertEquals(List.of(EXPLICIT_OPEN, EMPTY, EXPLICIT_OPEN, FULL, EMPTY),
                List.of(cond(2), cond(3), cond(4), cond(5), cond(6)), "OPEN ALL opens the closed zones");
        assertNull(zones.manageAll(ZoneAction.FINISH));
        assertEquals(List.of(FULL, EMPTY, FULL, FULL, EMPTY), List.of(cond(2), cond(3), cond(4), cond(5), cond(6)));
        assertNull(zones.manageAll(ZoneAction.RESET));
        for (int z = 2; z < 8; z++) {
            assertEquals(EMPTY, cond(z));
        }
        assertEquals(0, zones.openZones());
    }

    @Test
    void openAllIsAllOrNothingAndMakesRoomFromImplicitZones() {
        for (int z = 2; z <= 5; z++) {
            write(start(z), BLOCK);
        }
        assertNull(zones.manageAll(ZoneAction.CLOSE)); // four closed zones, max-open 3
        assertEquals(ZoneError.INSUFFICIENT_ZONE_RESOURCES, zones.manageAll(ZoneAction.OPEN).error());
        for (int z = 2; z <= 5; z++) {
            assertEquals(CLOSED, cond(z), "nothing was opened");
        }
        manage(ZoneAction.RESET, 5);
        manage(ZoneAction.RESET, 4);
        write(start(6), BLOCK);
        write(start(7), BLOCK); // two implicit opens beside zones 2 and 3 closed
        assertNull(zones.manageAll(ZoneAction.OPEN));
        assertEquals(EXPLICIT_OPEN, cond(2));
        assertEquals(EXPLICIT_OPEN, cond(3));
        assertEquals(CLOSED, cond(6), "the least recently written implicit zone made room");
        assertEquals(IMPLICIT_OPEN, cond(7));
        assertEquals(3, zones.openZones());
    }

    @Test
    void saveAndRestoreKeepWritePointersAndPowerOnConditions() {
        write(start(2), BLOCK); // implicit open -> closed after power on
        manage(ZoneAction.OPEN, 3); // explicit open, empty -> empty
        write(start(4), ZONE); // full
        write(start(5), 2 * BLOCK);
        manage(ZoneAction.FINISH, 5); // full, data ends after two blocks
        long before = zones.changes();
        long[] wps = new long[8];
        long[] data = new long[8];
        assertEquals(before, zones.snapshot(wps, data));
        assertEquals(BLOCK, wps[2]);
        assertEquals(ZONE, wps[5]);
        assertEquals(2 * BLOCK, data[5]);
        HostManagedZones again = new HostManagedZones(SPEC, 8L * ZONE, wps, data);
        assertEquals(List.of(CLOSED, EMPTY, FULL, FULL, EMPTY), List.of(again.zone(2).condition(),
                again.zone(3).condition(), again.zone(4).condition(), again.zone(5).condition(),
                again.zone(6).condition()));
        assertEquals(start(2) + BLOCK, again.zone(2).writePointer());
        assertEquals(start(5) + 2 * BLOCK, again.readableEnd(5));
        assertEquals(0, again.openZones());
        long restored = again.changes();
        assertNull(again.beginWrite(start(2) + BLOCK, BLOCK), "writing goes on at the saved pointer");
        again.endWrite(start(2) + BLOCK, BLOCK, true);
        assertTrue(again.changes() > restored, "a write moves the change count");
        manage(ZoneAction.OPEN, 6);
        assertEquals(before, zones.changes(), "opening moves no pointer: nothing new to save");
    }

    @Test
    void savedStateThatCannotBeTrueIsRefused() {
        long[] wps = new long[8];
        long[] data = new long[8];
        wps[2] = BLOCK;
        data[2] = 2 * BLOCK; // data beyond the pointer
        assertThrows(IllegalArgumentException.class, () -> new HostManagedZones(SPEC, 8L * ZONE, wps, data));
        data[2] = 0; // data short of a pointer that is not at the capacity: only FINISH does that
        assertThrows(IllegalArgumentException.class, () -> new HostManagedZones(SPEC, 8L * ZONE, wps, data));
        wps[2] = 100;
        data[2] = 100; // not on blocks
        assertThrows(IllegalArgumentException.class, () -> new HostManagedZones(SPEC, 8L * ZONE, wps, data));
        wps[2] = ZONE + BLOCK;
        data[2] = ZONE + BLOCK; // past the capacity
        assertThrows(IllegalArgumentException.class, () -> new HostManagedZones(SPEC, 8L * ZONE, wps, data));
        assertThrows(IllegalArgumentException.class,
                () -> new HostManagedZones(SPEC, 8L * ZONE, new long[7], new long[7]));
        assertThrows(IllegalArgumentException.class, () -> new HostManagedZones(SPEC, 8L * ZONE, wps, null));
    }

    @Test
    void badSpecificationsAreRefusedWithTheParameterNamed() {
        assertMessage("zone-size 3072 is not a power of two", () -> ZoneSpec.of(3072));
        assertMessage("zone-size 256 is smaller than the block size 512", () -> ZoneSpec.of(256));
        assertMessage("zone-capacity 8192", () -> ZoneSpec.of(ZONE).withCapacity(2 * ZONE));
        assertMessage("zone-capacity 1000", () -> ZoneSpec.of(ZONE).withCapacity(1000));
        assertMessage("block-size 1000", () -> ZoneSpec.of(ZONE).withBlockSize(1000));
        assertMessage("zone-size 4096 is smaller than the block size 8192",
                () -> ZoneSpec.of(ZONE).withBlockSize(8192));
        assertMessage("max-open -1", () -> ZoneSpec.of(ZONE).withMaxOpen(-1));
        assertMessage("both read-only and offline", () -> ZoneSpec.of(ZONE).withReadOnly(Set.of(2))
                .withOffline(Set.of(2)));
        assertMessage("conventional=8 leaves no sequential zone",
                () -> new HostManagedZones(ZoneSpec.of(ZONE).withConventional(8), 8L * ZONE, null, null));
        assertMessage("read-only-zones: zone 1 is not a sequential zone",
                () -> new HostManagedZones(SPEC.withReadOnly(Set.of(1)), 8L * ZONE, null, null));
        assertMessage("offline-zones: zone 8 is not a sequential zone",
                () -> new HostManagedZones(SPEC.withOffline(Set.of(8)), 8L * ZONE, null, null));
        assertMessage("zone-size 8192 is larger than the disk (4096 bytes)",
                () -> new HostManagedZones(ZoneSpec.of(2 * ZONE), ZONE, null, null));
        assertMessage("disk size 4100 is not a multiple of the block size",
                () -> new HostManagedZones(ZoneSpec.of(ZONE), 4100, null, null));
        assertEquals(0, new HostManagedZones(SPEC.withMaxOpen(6), 8L * ZONE, null, null).layout().maxOpen(),
                "a limit every sequential zone fits under is none");
        assertEquals(5, new HostManagedZones(SPEC.withMaxOpen(5), 8L * ZONE, null, null).layout().maxOpen());
    }

    private static void assertMessage(String part, org.junit.jupiter.api.function.Executable e) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
        assertTrue(x.getMessage().contains(part), x.getMessage());
    }

    @Test
    void managementWaitsForTheZonesWriteUnderWay() throws Exception {
        assertNull(zones.beginWrite(start(2), BLOCK));
        Thread[] resetter = new Thread[1];
        CompletableFuture<ZoneRefusal> reset = new CompletableFuture<>();
        resetter[0] = new Thread(() -> reset.complete(zones.manage(ZoneAction.RESET, start(2))), "resetter");
        resetter[0].start();
        awaitBlocked(resetter[0]);
        assertEquals(IMPLICIT_OPEN, cond(2));
        zones.endWrite(start(2), BLOCK, true);
        assertNull(reset.get(5, TimeUnit.SECONDS));
        assertEquals(EMPTY, cond(2), "the reset came after the write");
        assertEquals(start(2), zones.readableEnd(2));
        resetter[0].join(5000);
    }
}
