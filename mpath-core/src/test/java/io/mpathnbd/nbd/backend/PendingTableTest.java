package io.mpathnbd.nbd.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.mpathnbd.core.backend.BackendCallback;
import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.request.Extents;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PendingTableTest {
    private static final BackendCallback NOOP = new BackendCallback() {
        @Override
        public void succeeded(ByteBuf data, Extents extents) {
        }

        @Override
        public void failed(Failure failure) {
        }
    };

    private static BlockRequest read(int n) {
        return new BlockRequest(BlockOp.READ, 0, 0, n, 0, null, null);
    }

    @Test
    void cookiesFindTheirSlotUntilReleased() {
        PendingTable t = new PendingTable(2);
        BlockRequest r = read(512);
        PendingTable.Slot s = t.acquire(r, NOOP, 1);
        long cookie = s.cookie();
        assertSame(s, t.find(cookie));
        assertSame(r, t.find(cookie).request);
        t.release(s);
        assertNull(t.find(cookie), "a released cookie is unknown");
        PendingTable.Slot again = t.acquire(read(1), NOOP, 2);
        assertSame(s, again, "slots are reused");
        assertNotEquals(cookie, again.cookie(), "a reused slot gets a new generation");
        assertNull(t.find(cookie), "a late reply for the old request is not matched to the new one");
    }

    @Test
    void growsAndKeepsEveryCookieDistinct() {
        PendingTable t = new PendingTable(2);
        List<PendingTable.Slot> slots = new ArrayList<>();
        Set<Long> cookies = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            PendingTable.Slot s = t.acquire(read(i + 1), NOOP, i);
            slots.add(s);
            cookies.add(s.cookie());
        }
        assertEquals(100, cookies.size());
        assertEquals(100, t.size());
        for (PendingTable.Slot s : slots) {
            assertEquals(s.request.length(), t.find(s.cookie()).request.length());
        }
        assertEquals(0, t.oldestStartNanos());
        t.release(slots.get(0));
        assertEquals(1, t.oldestStartNanos());
    }

    @Test
    void unknownCookies() {
        PendingTable t = new PendingTable(4);
        assertNull(t.find(0));
        assertNull(t.find(-1));
        assertNull(t.find(1L << 40 | 3));
        assertEquals(Long.MAX_VALUE, t.oldestStartNanos());
    }
}
