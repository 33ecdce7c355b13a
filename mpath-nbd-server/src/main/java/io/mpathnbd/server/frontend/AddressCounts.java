package io.mpathnbd.server.frontend;

import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Connections open per client IP address, for {@code max-connections-per-address}: one host (or one misbehaving
 * client) cannot take every connection slot. With no limit it keeps nothing. Any thread.
 */
final class AddressCounts {
    private final int limit;
    private final ConcurrentHashMap<InetAddress, Integer> open = new ConcurrentHashMap<>();

    AddressCounts(int limit) {
        this.limit = limit;
    }

    /** Counts one more connection from {@code address}; false (and nothing counted) if that is over the limit. */
    boolean acquire(InetAddress address) {
        if (limit <= 0 || address == null) {
            return true;
        }
        boolean[] admitted = new boolean[1];
        open.compute(address, (a, n) -> {
            int now = n == null ? 0 : n;
            if (now >= limit) {
                return n;
            }
            admitted[0] = true;
            return now + 1;
        });
        return admitted[0];
    }

    /** One connection from {@code address} closed (one that {@link #acquire} admitted). */
    void release(InetAddress address) {
        if (limit <= 0 || address == null) {
            return;
        }
        open.computeIfPresent(address, (a, n) -> n <= 1 ? null : n - 1);
    }

    int open(InetAddress address) {
        Integer n = open.get(address);
        return n == null ? 0 : n;
    }
}
