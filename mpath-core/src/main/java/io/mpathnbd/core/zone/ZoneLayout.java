package io.mpathnbd.core.zone;

import java.util.Objects;

/**
 * The shape of a zoned disk, known when a session opens: what every path of a zoned export must agree on before
 * the zones themselves are compared.
 *
 * @param model how the disk exposes zones
 * @param zoneSize bytes per zone, a power of two (the last zone may be shorter)
 * @param zoneCount number of zones
 * @param maxOpen the most zones that may be open at once (implicitly or explicitly), 0 for no limit
 */
public record ZoneLayout(ZoneModel model, long zoneSize, int zoneCount, int maxOpen) {

    public ZoneLayout {
        Objects.requireNonNull(model, "model");
        if (zoneSize <= 0 || Long.bitCount(zoneSize) != 1) {
            throw new IllegalArgumentException("zone size " + zoneSize + " is not a power of two");
        }
        if (zoneCount <= 0 || maxOpen < 0) {
            throw new IllegalArgumentException("zone count " + zoneCount + ", max open " + maxOpen);
        }
    }

    /** The index of the zone holding {@code offset} (a shift: the zone size is a power of two). */
    public int zoneIndex(long offset) {
        return (int) (offset >>> Long.numberOfTrailingZeros(zoneSize));
    }

    /** First byte of zone {@code index}. */
    public long zoneStart(int index) {
        return (long) index << Long.numberOfTrailingZeros(zoneSize);
    }
}
