package io.mpathnbd.nbd.backend;

import io.mpathnbd.core.backend.BackendCallback;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.request.Extents;
import java.util.Arrays;

/**
 * The requests one connection has sent and not yet seen answered, keyed by the cookie this gateway put on the wire.
 * A cookie is a slot index (low 32 bits) plus the slot's generation (high 32 bits), so a lookup is an array access
 * and a late or duplicate reply for a reused slot is recognised as unknown. Slots are reused: no allocation per
 * request once the table has grown to the connection's queue depth. Confined to the connection's event loop.
 */
final class PendingTable {
    /** One request in flight, plus the reply state a structured reply builds up over several chunks. */
    static final class Slot {
        final int index;
        int generation;
        BlockRequest request;
        BackendCallback callback;
        long startNanos;
        /** READ: null, the single data buffer covering the whole range, or a {@link ReadAssembly}. */
        Object readState;
        Extents extents;
        int error;
        String errorMessage;

        Slot(int index) {
            this.index = index;
        }

        long cookie() {
            return ((long) generation << 32) | (index & 0xffffffffL);
        }

        boolean inUse() {
            return request != null;
        }
    }

    private Slot[] slots;
    private int[] free;
    private int freeCount;
    private int inUse;

    PendingTable(int initialCapacity) {
        slots = new Slot[initialCapacity];
        free = new int[initialCapacity];
        for (int i = 0; i < initialCapacity; i++) {
            slots[i] = new Slot(i);
            free[i] = initialCapacity - 1 - i;
        }
        freeCount = initialCapacity;
    }

    Slot acquire(BlockRequest request, BackendCallback callback, long nowNanos) {
        if (freeCount == 0) {
            grow();
        }
        Slot s = slots[free[--freeCount]];
        s.request = request;
        s.callback = callback;
        s.startNanos = nowNanos;
        inUse++;
        return s;
    }

    /** The slot for a cookie, or null if no such request is pending. */
    Slot find(long cookie) {
        int index = (int) cookie;
        if (index < 0 || index >= slots.length) {
            return null;
        }
        Slot s = slots[index];
        return s.inUse() && s.generation == (int) (cookie >>> 32) ? s : null;
    }

    /** Frees a slot; the caller has already taken what it needs (and released any read buffers). */
    void release(Slot s) {
        s.request = null;
        s.callback = null;
        s.readState = null;
        s.extents = null;
        s.error = 0;
        s.errorMessage = null;
        s.generation++;
        free[freeCount++] = s.index;
        inUse--;
    }

    int size() {
        return inUse;
    }

    int capacity() {
        return slots.length;
    }

    Slot slot(int index) {
        return slots[index];
    }

    /** Start time of the oldest pending request, or Long.MAX_VALUE if none. A scan, run only by the periodic check. */
    long oldestStartNanos() {
        if (inUse == 0) {
            return Long.MAX_VALUE;
        }
        long oldest = Long.MAX_VALUE;
        boolean found = false;
        for (Slot s : slots) {
            if (s.inUse() && (!found || s.startNanos - oldest < 0)) {
                oldest = s.startNanos;
                found = true;
            }
        }
        return oldest;
    }

    private void grow() {
        int old = slots.length;
        int n = old * 2;
        slots = Arrays.copyOf(slots, n);
        free = Arrays.copyOf(free, n);
        for (int i = n - 1; i >= old; i--) {
            slots[i] = new Slot(i);
            free[freeCount++] = i;
        }
    }
}
