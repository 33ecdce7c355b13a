package io.mpathnbd.core.zone;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The ZBC host-managed zone state machine of one emulated disk, as the kernel's null_blk zoned mode keeps it: the
 * conditions and write pointers of every zone, the open-zone accounting and its limit. It holds no data; the
 * emulating backend stores the blocks and asks this class before and after each write. Transport-neutral, so an
 * emulated disk behind any transport (the {@code file:} backend, a scripted test target) answers the same.
 *
 * <p>Rules (ZBC-2, host-managed):
 * <ul>
 * <li>A write into a sequential-write-required zone must start at its write pointer (else UNALIGNED_WRITE, also for
 *     a full zone) and end within its capacity (else BOUNDARY_VIOLATION). It opens an EMPTY or CLOSED zone
 *     implicitly; the zone turns FULL when its write pointer reaches the capacity.
 * <li>Opening a zone (implicitly or explicitly) when {@code maxOpen} zones are open closes the least recently
 *     written implicitly open zone, once the write under way in it (if any) ended; if every open zone is explicitly
 *     open the open fails with INSUFFICIENT_ZONE_RESOURCES.
 * <li>OPEN, CLOSE, FINISH and RESET act on sequential zones as ZBC says; finding the zone already so is a success.
 *     FINISH needs no open resources (the zone ends FULL, which holds none; null_blk checks them for EMPTY zones).
 * <li>Conventional zones (the first {@code conventional} ones) take writes anywhere; a write may span them but not
 *     run into a sequential zone. READ ONLY and OFFLINE zones refuse writes and management; OFFLINE ones reads too.
 * </ul>
 *
 * <p>Each zone keeps two offsets: the write pointer, and the end of the data written since its last reset. They
 * differ only after FINISH (the pointer jumps to the capacity); reads past the data end must return zeros
 * ({@link #readableEnd}), so the emulator never shows blocks from before a reset.
 *
 * <p>Concurrency: a write to a sequential zone holds that zone's lock from {@link #beginWrite} to
 * {@link #endWrite} (on the same thread), as a disk processes one zone's writes one at a time; management of that
 * zone waits for it, and the write pointer moves only in {@link #endWrite}, after the data landed, so it is never
 * ahead of the data. The state itself is guarded by this object's monitor, held only for bookkeeping. Writes to
 * different zones run in parallel.
 */
public final class HostManagedZones {
    private final ZoneSpec spec;
    private final long diskSize;
    private final int shift;
    private final int count;
    private final int conventional;
    private final int maxOpen;
    private final ZoneLayout layout;
    private final ReentrantLock[] writeLocks;

    // guarded by this
    private final long[] writePointer;
    private final long[] dataEnd;
    private final ZoneCondition[] condition;
    private final long[] lastWrite;
    private final boolean[] writing;
    private int implicitOpen;
    private int explicitOpen;
    private long tick;
    private long changes;

    /**
     * @param savedWritePointers per zone, each write pointer relative to its zone's start as {@link #snapshot} gave
     *     it, or null for a disk whose zones are all empty
     * @param savedDataEnds the matching data ends, null with {@code savedWritePointers}
     * @throws IllegalArgumentException naming what does not fit the disk
     */
    public HostManagedZones(ZoneSpec spec, long diskSize, long[] savedWritePointers, long[] savedDataEnds) {
        this.spec = spec;
        this.diskSize = diskSize;
        if (diskSize <= 0 || diskSize % spec.blockSize() != 0) {
            throw new IllegalArgumentException("disk size " + diskSize + " is not a multiple of the block size "
                    + spec.blockSize());
        }
        if (spec.zoneSize() > diskSize) {
            throw new IllegalArgumentException("zone-size " + spec.zoneSize() + " is larger than the disk ("
                    + diskSize + " bytes)");
        }
        this.shift = Long.numberOfTrailingZeros(spec.zoneSize());
        long zones = (diskSize + spec.zoneSize() - 1) >>> shift;
        if (zones > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("zone-size " + spec.zoneSize() + " makes " + zones
                    + " zones: too many");
        }
        this.count = (int) zones;
        this.conventional = spec.conventional();
        if (conventional >= count) {
            throw new IllegalArgumentException("conventional=" + conventional + " leaves no sequential zone on a disk"
                    + " of " + count + " zone" + (count == 1 ? "" : "s") + " of " + spec.zoneSize() + " bytes");
        }
        checkIndexes("read-only-zones", spec.readOnlyZones());
        checkIndexes("offline-zones", spec.offlineZones());
        int sequential = count - conventional;
        // as null_blk: a limit that every sequential zone fits under is no limit
        this.maxOpen = spec.maxOpen() >= sequential ? 0 : spec.maxOpen();
        this.layout = new ZoneLayout(ZoneModel.HOST_MANAGED, spec.zoneSize(), count, maxOpen);
        this.writeLocks = new ReentrantLock[count];
        this.writePointer = new long[count];
        this.dataEnd = new long[count];
        this.condition = new ZoneCondition[count];
        this.lastWrite = new long[count];
        this.writing = new boolean[count];
        if ((savedWritePointers == null) != (savedDataEnds == null)
                || savedWritePointers != null && (savedWritePointers.length != count || savedDataEnds.length != count)) {
            throw new IllegalArgumentException("saved zone state does not have " + count + " zones");
        }
        for (int z = 0; z < count; z++) {
            long start = zoneStart(z);
            if (z < conventional) {
                condition[z] = ZoneCondition.NOT_WRITE_POINTER;
                writePointer[z] = zoneEnd(z);
                dataEnd[z] = zoneEnd(z);
                continue;
            }
            writeLocks[z] = new ReentrantLock();
            long wp = savedWritePointers == null ? 0 : savedWritePointers[z];
            long data = savedDataEnds == null ? 0 : savedDataEnds[z];
            long cap = zoneCapacity(z);
            if (data < 0 || data > wp || wp > cap || wp % spec.blockSize() != 0 || data % spec.blockSize() != 0
                    || (data != wp && wp != cap)) {
                throw new IllegalArgumentException("zone " + z + ": saved write pointer " + wp + " and data end "
                        + data + " do not fit a zone of capacity " + cap);
            }
            writePointer[z] = start + wp;
            dataEnd[z] = start + data;
            condition[z] = powerOnCondition(z);
        }
    }

    private void checkIndexes(String what, Iterable<Integer> zones) {
        for (int z : zones) {
            if (z < conventional || z >= count) {
                throw new IllegalArgumentException(what + ": zone " + z + " is not a sequential zone (zones "
                        + conventional + " to " + (count - 1) + ")");
            }
        }
    }

    /** After power on ZBC leaves no zone open: an open zone is CLOSED, or EMPTY if nothing was written. */
    private ZoneCondition powerOnCondition(int z) {
        if (spec.offlineZones().contains(z)) {
            return ZoneCondition.OFFLINE;
        }
        if (spec.readOnlyZones().contains(z)) {
            return ZoneCondition.READ_ONLY;
        }
        long rel = writePointer[z] - zoneStart(z);
        return rel == 0 ? ZoneCondition.EMPTY : rel == zoneCapacity(z) ? ZoneCondition.FULL : ZoneCondition.CLOSED;
    }

    public ZoneSpec spec() {
        return spec;
    }

    public long diskSize() {
        return diskSize;
    }

    /** The layout; its maxOpen is the limit in force (0 when the configured one is no limit). */
    public ZoneLayout layout() {
        return layout;
    }

    public int zoneCount() {
        return count;
    }

    public int zoneIndex(long offset) {
        return (int) (offset >>> shift);
    }

    public long zoneStart(int z) {
        return (long) z << shift;
    }

    /** One past zone {@code z}'s last byte: the last zone ends with the disk. */
    public long zoneEnd(int z) {
        return Math.min(diskSize, zoneStart(z) + spec.zoneSize());
    }

    /** Writable bytes of zone {@code z}: all of a conventional zone, at most the zone's length. */
    private long zoneCapacity(int z) {
        long length = zoneEnd(z) - zoneStart(z);
        return z < conventional ? length : Math.min(spec.zoneCapacity(), length);
    }

    /** Zone {@code z} as it is now. */
    public synchronized Zone zone(int z) {
        long start = zoneStart(z);
        long length = zoneEnd(z) - start;
        ZoneCondition c = condition[z];
        ZoneType type = z < conventional ? ZoneType.CONVENTIONAL : ZoneType.SEQUENTIAL_WRITE_REQUIRED;
        long wp = c.hasWritePointer() ? writePointer[z] : start + length;
        return new Zone(start, length, zoneCapacity(z), wp, type, c);
    }

    /** Every zone overlapping {@code [offset, offset + length)}; INVALID_REQUEST for a range not on the disk. */
    public ZoneRefusal checkRange(long offset, long length) {
        if (offset < 0 || length <= 0 || offset >= diskSize || length > diskSize - offset) {
            return new ZoneRefusal(ZoneError.INVALID_REQUEST, "range of " + length + " bytes at " + offset
                    + " is not on the disk (" + diskSize + " bytes)");
        }
        return null;
    }

    /** The zones overlapping a range {@link #checkRange} accepted, in order. */
    public synchronized List<Zone> report(long offset, long length) {
        int first = zoneIndex(offset);
        int last = zoneIndex(offset + length - 1);
        List<Zone> zones = new ArrayList<>(last - first + 1);
        for (int z = first; z <= last; z++) {
            zones.add(zone(z));
        }
        return zones;
    }

    /** Zones open now, implicitly or explicitly. */
    public synchronized int openZones() {
        return implicitOpen + explicitOpen;
    }

    /**
     * Admits a write of {@code length} bytes at {@code offset}, or says why not. On admission into a sequential zone
     * the caller holds that zone's lock until it calls {@link #endWrite} with the same range, on the same thread,
     * whatever happened to the data; a refused write holds nothing.
     */
    public ZoneRefusal beginWrite(long offset, int length) {
        ZoneRefusal bad = checkBlocks(offset, length);
        if (bad != null) {
            return bad;
        }
        int z = zoneIndex(offset);
        int last = zoneIndex(offset + length - 1);
        if (z < conventional) {
            if (last >= conventional) {
                return new ZoneRefusal(ZoneError.BOUNDARY_VIOLATION, "write of " + length + " bytes at " + offset
                        + " runs from conventional zone " + z + " into sequential zone " + conventional);
            }
            return null;
        }
        ReentrantLock lock = writeLocks[z];
        lock.lock();
        ZoneRefusal refusal;
        synchronized (this) {
            refusal = admitWrite(z, offset, length);
        }
        if (refusal != null) {
            lock.unlock();
        }
        return refusal;
    }

    private ZoneRefusal checkBlocks(long offset, int length) {
        ZoneRefusal range = checkRange(offset, length);
        if (range != null) {
            return range;
        }
        if (((offset | length) & (spec.blockSize() - 1)) != 0) {
            return new ZoneRefusal(ZoneError.INVALID_REQUEST, "write of " + length + " bytes at " + offset
                    + " is not on the disk's " + spec.blockSize() + "-byte blocks");
        }
        return null;
    }

    private ZoneRefusal admitWrite(int z, long offset, int length) {
        ZoneCondition c = condition[z];
        ZoneRefusal unusable = unusable(z, c);
        if (unusable != null) {
            return unusable;
        }
        if (c == ZoneCondition.FULL) {
            return new ZoneRefusal(ZoneError.UNALIGNED_WRITE, "write at " + offset + " into full zone " + z);
        }
        if (offset != writePointer[z]) {
            return new ZoneRefusal(ZoneError.UNALIGNED_WRITE, "write at " + offset + " is not at the write pointer "
                    + writePointer[z] + " of zone " + z);
        }
        if (offset + length > zoneStart(z) + zoneCapacity(z)) {
            return new ZoneRefusal(ZoneError.BOUNDARY_VIOLATION, "write of " + length + " bytes at " + offset
                    + " crosses the end of zone " + z + "'s capacity at " + (zoneStart(z) + zoneCapacity(z)));
        }
        if (c == ZoneCondition.EMPTY || c == ZoneCondition.CLOSED) {
            ZoneRefusal full = makeRoom(z);
            if (full != null) {
                return full;
            }
            condition[z] = ZoneCondition.IMPLICIT_OPEN;
            implicitOpen++;
        }
        lastWrite[z] = ++tick;
        writing[z] = true;
        return null;
    }

    /**
     * Ends a write {@link #beginWrite} admitted. {@code landed}: every byte is in the store, so the write pointer
     * moves past it. A write that failed leaves the pointer where it was (its bytes, if some landed, lie beyond it
     * and read as zeros).
     */
    public void endWrite(long offset, int length, boolean landed) {
        int z = zoneIndex(offset);
        if (z < conventional) {
            return;
        }
        try {
            synchronized (this) {
                writing[z] = false;
                notifyAll(); // a zone waiting to open may close this one now
                if (landed) {
                    writePointer[z] = offset + length;
                    dataEnd[z] = offset + length;
                    changes++;
                    if (writePointer[z] == zoneStart(z) + zoneCapacity(z)) {
                        leaveOpen(z);
                        condition[z] = ZoneCondition.FULL;
                    }
                }
            }
        } finally {
            writeLocks[z].unlock();
        }
    }

    /**
     * Where the data of zone {@code z} ends: bytes of the zone from there on read as zeros. The zone's end for a
     * conventional zone; -1 for an offline zone, which cannot be read. Take it before reading the store: the data
     * below it has landed.
     */
    public synchronized long readableEnd(int z) {
        return condition[z] == ZoneCondition.OFFLINE ? -1 : dataEnd[z];
    }

    /** One management command on the zone starting at {@code zoneStart}; null when done. */
    public ZoneRefusal manage(ZoneAction action, long zoneStart) {
        if (zoneStart < 0 || zoneStart >= diskSize || (zoneStart & (spec.zoneSize() - 1)) != 0) {
            return new ZoneRefusal(ZoneError.INVALID_REQUEST, action + ": " + zoneStart + " is not the start of a"
                    + " zone (zones of " + spec.zoneSize() + " bytes, disk of " + diskSize + ")");
        }
        int z = zoneIndex(zoneStart);
        if (z < conventional) {
            return new ZoneRefusal(ZoneError.INVALID_REQUEST, action + ": zone " + z + " is conventional");
        }
        writeLocks[z].lock();
        try {
            synchronized (this) {
                ZoneRefusal unusable = unusable(z, condition[z]);
                if (unusable != null) {
                    return unusable;
                }
                return apply(action, z);
            }
        } finally {
            writeLocks[z].unlock();
        }
    }

    /**
     * The command with ZBC's ALL bit: OPEN every CLOSED zone (all or none: INSUFFICIENT_ZONE_RESOURCES if they do not
     * fit beside the explicitly open ones), CLOSE every open zone, FINISH every open or closed zone, RESET every open,
     * closed or full zone. Waits for the writes under way.
     */
    public ZoneRefusal manageAll(ZoneAction action) {
        for (int z = conventional; z < count; z++) {
            writeLocks[z].lock();
        }
        try {
            synchronized (this) {
                return action == ZoneAction.OPEN ? openAll() : applyAll(action);
            }
        } finally {
            for (int z = count - 1; z >= conventional; z--) {
                writeLocks[z].unlock();
            }
        }
    }

    private ZoneRefusal openAll() {
        int closed = 0;
        for (int z = conventional; z < count; z++) {
            if (condition[z] == ZoneCondition.CLOSED) {
                closed++;
            }
        }
        if (maxOpen > 0 && explicitOpen + closed > maxOpen) {
            return new ZoneRefusal(ZoneError.INSUFFICIENT_ZONE_RESOURCES, "OPEN ALL: " + closed + " closed zones"
                    + " and " + explicitOpen + " explicitly open ones exceed max-open " + maxOpen);
        }
        for (int z = conventional; z < count; z++) {
            if (condition[z] == ZoneCondition.CLOSED) {
                condition[z] = ZoneCondition.EXPLICIT_OPEN;
                explicitOpen++;
            }
        }
        while (maxOpen > 0 && implicitOpen + explicitOpen > maxOpen) {
            closeZone(leastRecentImplicit(-1)); // exists: explicitOpen <= maxOpen
        }
        return null;
    }

    private ZoneRefusal applyAll(ZoneAction action) {
        for (int z = conventional; z < count; z++) {
            ZoneCondition c = condition[z];
            boolean acts;
            switch (action) {
                case CLOSE:
                    acts = c.open();
                    break;
                case FINISH:
                    acts = c.open() || c == ZoneCondition.CLOSED;
                    break;
                default:
                    acts = c.open() || c == ZoneCondition.CLOSED || c == ZoneCondition.FULL;
                    break;
            }
            if (acts) {
                apply(action, z);
            }
        }
        return null;
    }

    /** Applies {@code action} to a usable sequential zone (not read-only or offline). */
    private ZoneRefusal apply(ZoneAction action, int z) {
        ZoneCondition c = condition[z];
        switch (action) {
            case OPEN:
                if (c == ZoneCondition.EXPLICIT_OPEN || c == ZoneCondition.FULL) {
                    return null;
                }
                if (c == ZoneCondition.IMPLICIT_OPEN) {
                    implicitOpen--;
                } else {
                    ZoneRefusal full = makeRoom(z);
                    if (full != null) {
                        return full;
                    }
                }
                condition[z] = ZoneCondition.EXPLICIT_OPEN;
                explicitOpen++;
                return null;
            case CLOSE:
                if (c.open()) {
                    closeZone(z);
                }
                return null;
            case FINISH:
                if (c != ZoneCondition.FULL) {
                    leaveOpen(z);
                    writePointer[z] = zoneStart(z) + zoneCapacity(z); // the data end stays: the rest reads as zeros
                    condition[z] = ZoneCondition.FULL;
                    changes++;
                }
                return null;
            case RESET:
            default:
                if (c != ZoneCondition.EMPTY) {
                    leaveOpen(z);
                    writePointer[z] = zoneStart(z);
                    dataEnd[z] = zoneStart(z);
                    condition[z] = ZoneCondition.EMPTY;
                    changes++;
                }
                return null;
        }
    }

    private static ZoneRefusal unusable(int z, ZoneCondition c) {
        if (c == ZoneCondition.OFFLINE) {
            return new ZoneRefusal(ZoneError.ZONE_OFFLINE, "zone " + z + " is offline");
        }
        if (c == ZoneCondition.READ_ONLY) {
            return new ZoneRefusal(ZoneError.ZONE_READ_ONLY, "zone " + z + " is read-only");
        }
        return null;
    }

    /**
     * Makes room to open zone {@code z}: closes the least recently written implicitly open zone if at the limit.
     * When every implicitly open zone has a write under way it waits for one to end, as a disk finishes a command
     * before it closes the zone (those writes end without this monitor or this zone's lock). Only when every open
     * zone is explicitly open does it refuse.
     */
    private ZoneRefusal makeRoom(int z) {
        while (maxOpen > 0 && implicitOpen + explicitOpen >= maxOpen) {
            if (implicitOpen == 0) {
                return new ZoneRefusal(ZoneError.INSUFFICIENT_ZONE_RESOURCES, "cannot open zone " + z + ": all "
                        + explicitOpen + " of max-open " + maxOpen + " open zones are explicitly open");
            }
            int victim = leastRecentImplicit(z);
            if (victim >= 0) {
                closeZone(victim);
                return null;
            }
            try {
                wait(); // endWrite notifies
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new ZoneRefusal(ZoneError.INSUFFICIENT_ZONE_RESOURCES, "interrupted while waiting to open"
                        + " zone " + z);
            }
        }
        return null;
    }

    /** A scan, but only when the open limit is reached, and only over the zones' conditions. */
    private int leastRecentImplicit(int except) {
        int best = -1;
        for (int z = conventional; z < count; z++) {
            if (z != except && condition[z] == ZoneCondition.IMPLICIT_OPEN && !writing[z]
                    && (best < 0 || lastWrite[z] < lastWrite[best])) {
                best = z;
            }
        }
        return best;
    }

    private void closeZone(int z) {
        leaveOpen(z);
        condition[z] = writePointer[z] == zoneStart(z) ? ZoneCondition.EMPTY : ZoneCondition.CLOSED;
    }

    private void leaveOpen(int z) {
        if (condition[z] == ZoneCondition.IMPLICIT_OPEN) {
            implicitOpen--;
        } else if (condition[z] == ZoneCondition.EXPLICIT_OPEN) {
            explicitOpen--;
        }
    }

    /**
     * Copies every zone's write pointer and data end, relative to the zone's start (0 for conventional zones), for
     * saving; returns the change count they reflect, which moves whenever a pointer does.
     */
    public synchronized long snapshot(long[] writePointers, long[] dataEnds) {
        for (int z = 0; z < count; z++) {
            long start = zoneStart(z);
            writePointers[z] = z < conventional ? 0 : writePointer[z] - start;
            dataEnds[z] = z < conventional ? 0 : dataEnd[z] - start;
        }
        return changes;
    }

    /** The change count: moves with every write pointer or data end. */
    public synchronized long changes() {
        return changes;
    }
}
