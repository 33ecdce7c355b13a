package io.mpathnbd.core.zone;

import java.util.Set;
import java.util.TreeSet;

/**
 * How to emulate a host-managed zoned disk, as the kernel's null_blk zoned mode is configured (zone_size,
 * zone_capacity, zone_nr_conv, zone_max_open). The messages name the {@code file:} URI parameters, which carry
 * these names.
 *
 * @param zoneSize bytes per zone: a power of two (Linux accepts no other) and at least one block
 * @param zoneCapacity writable bytes from each zone's start, a multiple of the block size, at most the zone size
 * @param conventional how many zones at the start of the disk are conventional
 * @param maxOpen the most zones open at once, implicitly or explicitly; 0 for no limit
 * @param blockSize the logical block size: writes and management work in whole blocks
 * @param readOnlyZones indexes of sequential zones in READ ONLY condition
 * @param offlineZones indexes of sequential zones in OFFLINE condition
 */
public record ZoneSpec(long zoneSize, long zoneCapacity, int conventional, int maxOpen, int blockSize,
        Set<Integer> readOnlyZones, Set<Integer> offlineZones) {

    public static final int DEFAULT_BLOCK_SIZE = 512;

    public ZoneSpec {
        if (blockSize < 512 || blockSize > 65536 || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("block-size " + blockSize
                    + " is not a power of two from 512 to 65536");
        }
        if (zoneSize <= 0 || Long.bitCount(zoneSize) != 1) {
            throw new IllegalArgumentException("zone-size " + zoneSize + " is not a power of two (Linux accepts"
                    + " only power-of-two zone sizes; e.g. " + suggest(zoneSize) + ")");
        }
        if (zoneSize < blockSize) {
            throw new IllegalArgumentException("zone-size " + zoneSize + " is smaller than the block size "
                    + blockSize);
        }
        if (zoneCapacity <= 0 || zoneCapacity > zoneSize || zoneCapacity % blockSize != 0) {
            throw new IllegalArgumentException("zone-capacity " + zoneCapacity + " must be a multiple of the block"
                    + " size " + blockSize + " from " + blockSize + " to the zone size " + zoneSize);
        }
        if (conventional < 0) {
            throw new IllegalArgumentException("conventional " + conventional + " is negative");
        }
        if (maxOpen < 0) {
            throw new IllegalArgumentException("max-open " + maxOpen + " is negative (0 means no limit)");
        }
        readOnlyZones = Set.copyOf(readOnlyZones);
        offlineZones = Set.copyOf(offlineZones);
        Set<Integer> both = new TreeSet<>(readOnlyZones);
        both.retainAll(offlineZones);
        if (!both.isEmpty()) {
            throw new IllegalArgumentException("zones " + both + " are both read-only and offline");
        }
    }

    /** {@code zoneSize} zones of full capacity, no conventional zones, no open limit, 512-byte blocks. */
    public static ZoneSpec of(long zoneSize) {
        return new ZoneSpec(zoneSize, zoneSize, 0, 0, DEFAULT_BLOCK_SIZE, Set.of(), Set.of());
    }

    public ZoneSpec withCapacity(long capacity) {
        return new ZoneSpec(zoneSize, capacity, conventional, maxOpen, blockSize, readOnlyZones, offlineZones);
    }

    public ZoneSpec withConventional(int n) {
        return new ZoneSpec(zoneSize, zoneCapacity, n, maxOpen, blockSize, readOnlyZones, offlineZones);
    }

    public ZoneSpec withMaxOpen(int n) {
        return new ZoneSpec(zoneSize, zoneCapacity, conventional, n, blockSize, readOnlyZones, offlineZones);
    }

    public ZoneSpec withBlockSize(int n) {
        return new ZoneSpec(zoneSize, zoneCapacity, conventional, maxOpen, n, readOnlyZones, offlineZones);
    }

    public ZoneSpec withReadOnly(Set<Integer> zones) {
        return new ZoneSpec(zoneSize, zoneCapacity, conventional, maxOpen, blockSize, zones, offlineZones);
    }

    public ZoneSpec withOffline(Set<Integer> zones) {
        return new ZoneSpec(zoneSize, zoneCapacity, conventional, maxOpen, blockSize, readOnlyZones, zones);
    }

    private static String suggest(long size) {
        if (size <= 0) {
            return "256MiB";
        }
        long below = Long.highestOneBit(size);
        return below + " or " + (below << 1) + " bytes";
    }
}
