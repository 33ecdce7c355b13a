package io.mpathnbd.nbd.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;

/** How structured READ chunks are joined: pure logic, checked without a server (servers rarely fragment). */
class ReadAssemblyTest {
    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;

    private ByteBuf bytes(int value, int n) {
        ByteBuf b = alloc.directBuffer(n);
        for (int i = 0; i < n; i++) {
            b.writeByte(value);
        }
        return b;
    }

    @Test
    void dataAndHolesOutOfOrderTileTheRange() {
        ReadAssembly a = new ReadAssembly();
        ByteBuf tail = bytes(7, 100);
        ByteBuf head = bytes(9, 50);
        assertTrue(a.add(150, 100, tail, 250));
        assertTrue(a.add(0, 50, head, 250));
        assertTrue(a.add(50, 100, null, 250));
        ByteBuf out = a.finish(alloc, 250);
        byte[] got = ByteBufUtil.getBytes(out);
        byte[] expected = new byte[250];
        java.util.Arrays.fill(expected, 0, 50, (byte) 9);
        java.util.Arrays.fill(expected, 150, 250, (byte) 7);
        assertArrayEquals(expected, got);
        assertEquals(1, out.refCnt());
        out.release();
        assertEquals(0, tail.refCnt(), "releasing the result releases the pieces");
        assertEquals(0, head.refCnt());
    }

    @Test
    void largeHoleReadsAsZeroes() {
        ReadAssembly a = new ReadAssembly();
        int n = 3 * 1024 * 1024 + 5;
        assertTrue(a.add(0, n, null, n));
        ByteBuf out = a.finish(alloc, n);
        assertEquals(n, out.readableBytes());
        assertEquals(-1, out.forEachByte(b -> b == 0));
        out.release();
    }

    @Test
    void gapIsRejectedAndReleased() {
        ReadAssembly a = new ReadAssembly();
        ByteBuf p = bytes(1, 10);
        assertTrue(a.add(0, 10, p, 30));
        assertTrue(a.add(20, 10, null, 30));
        assertNull(a.finish(alloc, 30));
        assertEquals(0, p.refCnt());
    }

    @Test
    void overlapIsRejectedAndReleased() {
        ReadAssembly a = new ReadAssembly();
        ByteBuf p = bytes(1, 20);
        ByteBuf q = bytes(2, 20);
        assertTrue(a.add(0, 20, p, 30));
        // more than the range in total: must overlap somewhere
        assertFalse(a.add(10, 20, q, 30));
        assertEquals(0, q.refCnt());
        a.release();
        assertEquals(0, p.refCnt());
    }

    @Test
    void sameSizeOverlapFoundAtFinish() {
        ReadAssembly a = new ReadAssembly();
        ByteBuf p = bytes(1, 10);
        ByteBuf q = bytes(2, 10);
        assertTrue(a.add(0, 10, p, 30));
        assertTrue(a.add(5, 10, q, 30));
        assertNull(a.finish(alloc, 30));
        assertEquals(0, p.refCnt());
        assertEquals(0, q.refCnt());
    }
}
