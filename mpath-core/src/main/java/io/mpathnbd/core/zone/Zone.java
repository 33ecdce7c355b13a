package io.mpathnbd.core.zone;

import java.util.Objects;

/**
 * One zone as a disk reports it, in bytes.
 *
 * @param start first byte of the zone
 * @param length zone size (a power of two; the last zone of a disk may be shorter)
 * @param capacity bytes that can be written, from the start (at most {@code length}; ZBC disks have no less)
 * @param writePointer where the next write must start: meaningful when {@link ZoneCondition#hasWritePointer()};
 *     in the other conditions (full, conventional, read-only, offline) it is {@code start + length}, as Linux
 *     reports a zone no write can go to
 * @param type zone type
 * @param condition zone condition
 */
public record Zone(long start, long length, long capacity, long writePointer, ZoneType type,
        ZoneCondition condition) {

    public Zone {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(condition, "condition");
        if (start < 0 || length <= 0 || capacity <= 0 || capacity > length) {
            throw new IllegalArgumentException("zone at " + start + ": length " + length + ", capacity " + capacity);
        }
        if (writePointer < start || writePointer > start + length) {
            throw new IllegalArgumentException("zone at " + start + ": write pointer " + writePointer
                    + " outside the zone");
        }
    }

    /** One past the zone's last byte. */
    public long end() {
        return start + length;
    }

    /** True if {@code offset} lies in this zone. */
    public boolean contains(long offset) {
        return offset >= start && offset < end();
    }
}
