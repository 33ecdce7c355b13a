package io.mpathnbd.server.frontend;

import io.mpathnbd.core.request.Extents;
import io.mpathnbd.core.zone.Zone;
import io.mpathnbd.core.zone.ZoneCondition;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code x-mpath} contexts' extents from a zone report, cut to the requested range: one extent per zone for
 * {@link MetaContexts#ZONE_TYPE_CONDITION}, and per zone its written part and unwritten part for
 * {@link MetaContexts#WRITE_POINTER}, so each zone's extents end at its write pointer and at its end.
 */
final class ZoneExtents {
    private ZoneExtents() {
    }

    /** Value of a zone in {@code x-mpath:zone-type-condition}: ZBC zone type in bits 4-7, condition in bits 0-3. */
    static int typeCondition(Zone z) {
        return z.type().zbcCode() << 4 | z.condition().zbcCode();
    }

    static Extents typeCondition(List<Zone> zones, long offset, int length, boolean reqOne) {
        Builder b = new Builder(offset, length, zones.size(), reqOne);
        for (Zone z : zones) {
            b.add(z.start(), z.end(), typeCondition(z));
        }
        return b.build();
    }

    static Extents writePointer(List<Zone> zones, long offset, int length, boolean reqOne) {
        Builder b = new Builder(offset, length, zones.size() * 2, reqOne);
        for (Zone z : zones) {
            ZoneCondition c = z.condition();
            if (c == ZoneCondition.FULL) {
                b.add(z.start(), z.start() + z.capacity(), MetaContexts.WRITTEN);
                b.add(z.start() + z.capacity(), z.end(), MetaContexts.UNWRITTEN);
            } else if (c.hasWritePointer()) {
                b.add(z.start(), z.writePointer(), MetaContexts.WRITTEN);
                b.add(z.writePointer(), z.end(), MetaContexts.UNWRITTEN);
            } else {
                b.add(z.start(), z.end(), MetaContexts.NO_WRITE_POINTER);
            }
        }
        return b.build();
    }

    /** Extents clipped to {@code [offset, offset + length)}, empty pieces dropped, one only with REQ_ONE. */
    private static final class Builder {
        private final long from;
        private final long to;
        private final boolean reqOne;
        private final int[] lengths;
        private final int[] flags;
        private int n;

        Builder(long offset, int length, int max, boolean reqOne) {
            this.from = offset;
            this.to = offset + Integer.toUnsignedLong(length);
            this.reqOne = reqOne;
            this.lengths = new int[Math.max(1, max)];
            this.flags = new int[lengths.length];
        }

        void add(long start, long end, int value) {
            long s = Math.max(start, from);
            long e = Math.min(end, to);
            if (e <= s || n == lengths.length || reqOne && n == 1) {
                return;
            }
            lengths[n] = (int) (e - s);
            flags[n] = value;
            n++;
        }

        Extents build() {
            if (n == lengths.length) {
                return new Extents(lengths, flags);
            }
            return new Extents(Arrays.copyOf(lengths, Math.max(n, 1)), Arrays.copyOf(flags,
                    Math.max(n, 1)));
        }
    }
}
