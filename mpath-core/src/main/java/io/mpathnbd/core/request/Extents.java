package io.mpathnbd.core.request;

import java.util.Arrays;

/**
 * The answer to BLOCK_STATUS for the {@code base:allocation} context: consecutive extents from the request's
 * offset, each a length and flags ({@link #HOLE}, {@link #ZERO}). Immutable once built.
 */
public final class Extents {
    public static final int HOLE = 1;
    public static final int ZERO = 2;

    private final int[] lengths;
    private final int[] flags;

    public Extents(int[] lengths, int[] flags) {
        if (lengths.length != flags.length || lengths.length == 0) {
            throw new IllegalArgumentException("extents need as many flags as lengths, and at least one");
        }
        this.lengths = lengths;
        this.flags = flags;
    }

    /** One extent of plain data: what a backend without allocation information reports. */
    public static Extents allData(int length) {
        return new Extents(new int[] {length}, new int[] {0});
    }

    public int count() {
        return lengths.length;
    }

    public int length(int i) {
        return lengths[i];
    }

    public int flags(int i) {
        return flags[i];
    }

    /** The first extent only, for REQ_ONE. */
    public Extents first() {
        return lengths.length == 1 ? this : new Extents(new int[] {lengths[0]}, new int[] {flags[0]});
    }

    @Override
    public String toString() {
        return "Extents" + Arrays.toString(lengths) + Arrays.toString(flags);
    }
}
