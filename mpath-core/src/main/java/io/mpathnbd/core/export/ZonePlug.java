package io.mpathnbd.core.export;

import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.zone.Zone;
import io.mpathnbd.core.zone.ZoneCondition;
import io.mpathnbd.core.zone.ZoneType;
import java.util.ArrayDeque;

/**
 * One zone's plug and cached write pointer (Linux's zone write plug): while a write to a sequential-write-required
 * zone is in flight, later writes to that zone wait here in arrival order. Guarded by this object's lock.
 */
final class ZonePlug {
    final int index;
    /** Null until a report says; only sequential-write-required zones are plugged once known. */
    volatile ZoneType type;
    private boolean known;
    private long writePointer;
    private long capacityEnd;
    private ZoneCondition condition;
    private boolean busy;
    /** Writes (and TRIMs) as {@link BlockRequest}s, zone commands as {@link ZonedWrites.Command}s, in arrival order. */
    private final ArrayDeque<Object> queue = new ArrayDeque<>(4);

    ZonePlug(int index) {
        this.index = index;
    }

    /** Takes the plug for {@code r}, or queues {@code r} behind the one holding it; true if taken. */
    synchronized boolean enter(Object r) {
        if (busy) {
            queue.add(r);
            return false;
        }
        busy = true;
        return true;
    }

    /** Passes the plug to the next queued item (returned: it now holds the plug), or frees it (null). */
    synchronized Object next() {
        Object r = queue.poll();
        busy = r != null;
        return r;
    }

    /** Takes what a report says of this zone. */
    synchronized void learn(Zone z) {
        type = z.type();
        condition = z.condition();
        capacityEnd = z.start() + z.capacity();
        writePointer = writePointerOf(z);
        known = true;
    }

    /** The next write position a zone report implies: FULL is at the capacity's end. */
    static long writePointerOf(Zone z) {
        return z.condition() == ZoneCondition.FULL ? z.start() + z.capacity() : z.writePointer();
    }

    /** After an answer the plug cannot interpret: the next write reads the zone again first. */
    synchronized void doubt() {
        known = false;
    }

    synchronized boolean known() {
        return known;
    }

    /** Null if a write at {@code offset} starts at the write pointer, else why not. */
    synchronized String misaligned(long offset) {
        if (condition == ZoneCondition.FULL) {
            return "zone " + index + " is full";
        }
        if (condition.hasWritePointer() && offset != writePointer) {
            return "zone " + index + " write pointer is at " + writePointer + ", the write starts at " + offset;
        }
        return null; // read-only or offline: the disk answers
    }

    /** A write ending at {@code end} landed. */
    synchronized void advance(long end) {
        writePointer = end;
        condition = end >= capacityEnd ? ZoneCondition.FULL : ZoneCondition.IMPLICIT_OPEN;
    }
}
