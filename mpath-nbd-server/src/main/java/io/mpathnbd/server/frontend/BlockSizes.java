package io.mpathnbd.server.frontend;

/**
 * The block size constraints advertised to a client (NBD_INFO_BLOCK_SIZE) and enforced on its requests.
 *
 * @param minimum smallest addressable unit: offsets and lengths must be multiples of it (a power of two)
 * @param preferred granularity for efficient I/O (a power of two, at least max(minimum, 512))
 * @param maximum largest READ/WRITE/CACHE payload (a multiple of the minimum)
 */
record BlockSizes(int minimum, int preferred, int maximum) {
    private static final int SPEC_MAX_MINIMUM = 1 << 16;
    private static final int PREFERRED_FLOOR = 512;

    /**
     * Derives spec-conforming sizes from what the export reports and the front end's payload limit. The export's
     * numbers come from backends, so they are sanitised here rather than trusted: a client that receives an invalid
     * BLOCK_SIZE record (qemu checks) refuses the export.
     */
    static BlockSizes of(int exportMinimum, int exportPreferred, int exportMaxPayload, int frontendMaxPayload) {
        int min = powerOfTwoAtLeast(Math.max(1, exportMinimum));
        if (min > SPEC_MAX_MINIMUM) {
            min = SPEC_MAX_MINIMUM;
        }
        int max = exportMaxPayload > 0 ? Math.min(exportMaxPayload, frontendMaxPayload) : frontendMaxPayload;
        max -= max % min;
        if (max < min) {
            max = min;
        }
        int floor = Math.max(min, PREFERRED_FLOOR);
        int preferred = powerOfTwoAtLeast(Math.max(exportPreferred, floor));
        if (preferred > max) {
            // the spec wants maximum >= preferred (for exports at least that large): settle on the largest power of
            // two that fits, but never below the floor
            preferred = Math.max(Integer.highestOneBit(max), floor);
            if (preferred > max) {
                max = preferred;
            }
        }
        return new BlockSizes(min, preferred, max);
    }

    boolean aligned(long offset, long length) {
        int mask = minimum - 1;
        return ((offset | length) & mask) == 0;
    }

    private static int powerOfTwoAtLeast(int n) {
        if (n <= 1) {
            return 1;
        }
        int high = Integer.highestOneBit(n);
        if (high == n) {
            return n;
        }
        return high >= (1 << 30) ? 1 << 30 : high << 1;
    }
}
