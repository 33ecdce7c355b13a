package io.mpathnbd.file;

import io.mpathnbd.core.zone.ZoneSpec;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code file:} URI parameters that turn a file into an emulated zoned disk, named as null_blk's configfs
 * attributes are (zone_size, zone_capacity, zone_nr_conv, zone_max_open): {@code zone-size} (required to emulate
 * zones), {@code zone-capacity}, {@code conventional}, {@code max-open}, {@code block-size},
 * {@code read-only-zones} and {@code offline-zones} (zone indexes, comma separated).
 */
final class ZoneParameters {
    static final Set<String> NAMES = Set.of("zone-size", "zone-capacity", "conventional", "max-open", "block-size",
            "read-only-zones", "offline-zones");
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(?:([kmgt])(?:ib?)?)?b?");

    private ZoneParameters() {
    }

    /** The zone specification the parameters give, or null when they ask for no zones. */
    static ZoneSpec parse(String uri, Map<String, String> params) {
        String zoneSize = params.get("zone-size");
        if (zoneSize == null) {
            for (String name : NAMES) {
                if (params.containsKey(name)) {
                    throw new IllegalArgumentException("file URI '" + uri + "': " + name + " needs zone-size"
                            + " (the emulated zoned disk's zone size, e.g. zone-size=256MiB)");
                }
            }
            return null;
        }
        try {
            long size = size("zone-size", zoneSize);
            String cap = params.get("zone-capacity");
            String bs = params.get("block-size");
            return new ZoneSpec(size, cap == null ? size : size("zone-capacity", cap),
                    count("conventional", params.getOrDefault("conventional", "0")),
                    count("max-open", params.getOrDefault("max-open", "0")),
                    bs == null ? ZoneSpec.DEFAULT_BLOCK_SIZE : (int) Math.min(Integer.MAX_VALUE, size("block-size", bs)),
                    zones("read-only-zones", params.get("read-only-zones")),
                    zones("offline-zones", params.get("offline-zones")));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("file URI '" + uri + "': " + e.getMessage(), e);
        }
    }

    /** A size in bytes: plain, or with KiB, MiB, GiB, TiB (also k, M, G, T). */
    static long size(String name, String text) {
        Matcher m = SIZE.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException(name + " '" + text + "' is not a size (e.g. 256MiB, 64KiB, 4096)");
        }
        int shift = m.group(2) == null ? 0 : 10 * ("kmgt".indexOf(m.group(2).charAt(0)) + 1);
        try {
            long n = Long.parseLong(m.group(1));
            if (n > Long.MAX_VALUE >> shift) {
                throw new NumberFormatException();
            }
            return n << shift;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " '" + text + "' is too large");
        }
    }

    private static int count(String name, String text) {
        try {
            return Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " '" + text + "' is not a whole number");
        }
    }

    private static Set<Integer> zones(String name, String text) {
        Set<Integer> zones = new TreeSet<>();
        if (text == null || text.isBlank()) {
            return zones;
        }
        for (String part : text.split(",")) {
            int z = count(name, part);
            if (z < 0) {
                throw new IllegalArgumentException(name + ": zone " + z + " is negative");
            }
            zones.add(z);
        }
        return zones;
    }
}
