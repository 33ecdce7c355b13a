package io.mpathnbd.nbd.protocol;

import static io.mpathnbd.core.support.WireBytes.bytes;
import static io.mpathnbd.core.support.WireBytes.concat;
import static io.mpathnbd.core.support.WireBytes.drain;
import static io.mpathnbd.core.support.WireBytes.feed;
import static io.mpathnbd.core.support.WireBytes.hex;
import static io.mpathnbd.core.support.WireBytes.pooled;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.support.WireBytes;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.EncoderException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RequestCodecTest {
    // READ, cookie 0x0102030405060708, offset 4096, length 65536
    private static final String READ = "25609513 0000 0000 0102030405060708 0000000000001000 00010000";
    // WRITE+FUA, cookie 2, offset 512, length 4, payload deadbeef
    private static final String WRITE = "25609513 0001 0001 0000000000000002 0000000000000200 00000004 deadbeef";
    // FLUSH, cookie 3
    private static final String FLUSH = "25609513 0000 0003 0000000000000003 0000000000000000 00000000";
    // TRIM, cookie 4, offset 2^64-1, length 2^32-1 (both unsigned on the wire)
    private static final String TRIM_MAX = "25609513 0000 0004 0000000000000004 ffffffffffffffff ffffffff";

    @Test
    void encodesRequestsByteExact() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdRequestEncoder());
        ch.writeOutbound(new NbdRequest(0, NbdConstants.CMD_READ, 0x0102030405060708L, 4096, 65536));
        ch.writeOutbound(new NbdRequest(NbdConstants.CMD_FLAG_FUA, NbdConstants.CMD_WRITE, 2, 512, 4,
                pooled(bytes("deadbeef"))));
        ch.writeOutbound(new NbdRequest(0, NbdConstants.CMD_FLUSH, 3, 0, 0));
        ch.writeOutbound(new NbdRequest(0, NbdConstants.CMD_TRIM, 4, -1L, 0xffffffffL));
        assertEquals(hex(bytes(READ + WRITE + FLUSH + TRIM_MAX)), hex(drain(ch)));
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void writePayloadIsPassedOnNotCopied() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdRequestEncoder());
        ByteBuf payload = pooled(bytes("deadbeef"));
        ch.writeOutbound(new NbdRequest(0, NbdConstants.CMD_WRITE, 2, 512, 4, payload));
        List<ByteBuf> out = WireBytes.outbound(ch);
        assertEquals(2, out.size());
        assertEquals(28, out.get(0).readableBytes());
        assertSame(payload, out.get(1));
        assertEquals(1, payload.refCnt(), "the encoder hands its reference on, nothing more");
        out.forEach(ByteBuf::release);
        assertEquals(0, payload.refCnt());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void encoderRefusesInconsistentRequestsAndReleasesThem() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdRequestEncoder());
        ByteBuf shortPayload = pooled(bytes("dead"));
        assertThrows(EncoderException.class,
                () -> ch.writeOutbound(new NbdRequest(0, NbdConstants.CMD_WRITE, 1, 0, 4, shortPayload)));
        assertEquals(0, shortPayload.refCnt());
        ByteBuf stray = pooled(bytes("dead"));
        assertThrows(EncoderException.class,
                () -> ch.writeOutbound(new NbdRequest(0, NbdConstants.CMD_READ, 1, 0, 2, stray)));
        assertEquals(0, stray.refCnt());
        assertThrows(EncoderException.class,
                () -> ch.writeOutbound(NbdRequest.oversized(0, NbdConstants.CMD_WRITE, 1, 0, 1 << 30)));
        assertNull(ch.readOutbound());
        assertFalse(ch.finishAndReleaseAll());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 5, 28, 29, 4096})
    void decodesRequestsInAnyFragmentation(int piece) {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdRequestDecoder(1 << 20));
        List<Object> msgs = feed(ch, bytes(READ + WRITE + FLUSH + TRIM_MAX), piece);
        assertEquals(4, msgs.size());

        NbdRequest read = (NbdRequest) msgs.get(0);
        assertEquals(NbdConstants.CMD_READ, read.type());
        assertEquals(0, read.flags());
        assertEquals(0x0102030405060708L, read.cookie());
        assertEquals(4096, read.offset());
        assertEquals(65536, read.length());
        assertEquals(0, read.payload().readableBytes());

        NbdRequest write = (NbdRequest) msgs.get(1);
        assertEquals(NbdConstants.CMD_WRITE, write.type());
        assertEquals(NbdConstants.CMD_FLAG_FUA, write.flags());
        assertEquals(2, write.cookie());
        assertEquals(512, write.offset());
        assertEquals(4, write.length());
        assertEquals("deadbeef", hex(write.payload()));
        assertNotNull(write.payload().unwrap(), "the payload is a slice of the receive buffer");
        assertFalse(write.isOversized());

        NbdRequest flush = (NbdRequest) msgs.get(2);
        assertEquals(NbdConstants.CMD_FLUSH, flush.type());

        NbdRequest trim = (NbdRequest) msgs.get(3);
        assertEquals(-1L, trim.offset());
        assertEquals(0xffffffffL, trim.length());

        msgs.forEach(io.netty.util.ReferenceCountUtil::release);
        assertEquals(0, write.refCnt());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void roundTripThroughEncoderAndDecoder() {
        EmbeddedChannel client = new EmbeddedChannel(new NbdRequestEncoder());
        byte[] data = new byte[70000];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 31);
        }
        client.writeOutbound(new NbdRequest(NbdConstants.CMD_FLAG_FUA, NbdConstants.CMD_WRITE, -5L, 1L << 40,
                data.length, pooled(data)));
        client.writeOutbound(new NbdRequest(NbdConstants.CMD_FLAG_REQ_ONE, NbdConstants.CMD_BLOCK_STATUS, 6, 0,
                1 << 30));
        EmbeddedChannel server = new EmbeddedChannel(new NbdRequestDecoder(1 << 17));
        List<Object> msgs = feed(server, drain(client), 1460);
        assertEquals(2, msgs.size());
        NbdRequest write = (NbdRequest) msgs.get(0);
        assertEquals(-5L, write.cookie());
        assertEquals(1L << 40, write.offset());
        assertEquals(hex(data), hex(write.payload()));
        NbdRequest status = (NbdRequest) msgs.get(1);
        assertEquals(NbdConstants.CMD_BLOCK_STATUS, status.type());
        assertEquals(NbdConstants.CMD_FLAG_REQ_ONE, status.flags());
        assertEquals(1 << 30, status.length());
        write.release();
        status.release();
        assertFalse(client.finishAndReleaseAll());
        assertFalse(server.finishAndReleaseAll());
    }

    @Test
    void badMagicIsAProtocolErrorAndTheRestIsDiscarded() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdRequestDecoder(4096));
        ch.writeInbound(pooled(bytes(FLUSH)));
        NbdRequest ok = ch.readInbound();
        ok.release();
        ByteBuf bad = pooled(bytes("25609514" + FLUSH.substring(8)));
        assertThrows(NbdProtocolException.class, () -> ch.writeInbound(bad));
        assertEquals(0, bad.refCnt());
        ch.writeInbound(pooled(bytes(FLUSH)));
        assertNull(ch.readInbound());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void oversizedWriteIsSkippedUnbufferedAndTheNextRequestDecodes() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdRequestDecoder(1024));
        // WRITE of 5000 bytes (cookie 9, offset 8192): header alone first
        ch.writeInbound(pooled(bytes("25609513 0000 0001 0000000000000009 0000000000002000 00001388")));
        assertNull(ch.readInbound());
        for (int i = 0; i < 49; i++) {
            ByteBuf piece = pooled(new byte[100]);
            ch.writeInbound(piece);
            assertEquals(0, piece.refCnt(), "an oversized payload must not be held by the decoder");
            assertNull(ch.readInbound());
        }
        // the payload's last 100 bytes, then a FLUSH and the first half of a READ, in one read
        byte[] read = bytes(READ);
        ch.writeInbound(pooled(concat(new byte[100], bytes(FLUSH), java.util.Arrays.copyOf(read, 14))));
        NbdRequest marker = ch.readInbound();
        assertTrue(marker.isOversized());
        assertEquals(NbdConstants.CMD_WRITE, marker.type());
        assertEquals(9, marker.cookie());
        assertEquals(8192, marker.offset());
        assertEquals(5000, marker.length());
        assertEquals(0, marker.payload().readableBytes());
        marker.release();
        NbdRequest flush = ch.readInbound();
        assertEquals(NbdConstants.CMD_FLUSH, flush.type());
        assertEquals(3, flush.cookie());
        flush.release();
        ch.writeInbound(pooled(java.util.Arrays.copyOfRange(read, 14, read.length)));
        NbdRequest r = ch.readInbound();
        assertEquals(NbdConstants.CMD_READ, r.type());
        assertEquals(0x0102030405060708L, r.cookie());
        r.release();
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void oversizedWriteFedByteByByteStillSkips() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdRequestDecoder(2));
        List<Object> msgs = feed(ch, bytes(WRITE + FLUSH), 1);
        assertEquals(2, msgs.size());
        NbdRequest marker = (NbdRequest) msgs.get(0);
        assertTrue(marker.isOversized());
        assertEquals(2, marker.cookie());
        assertEquals(NbdConstants.CMD_FLUSH, ((NbdRequest) msgs.get(1)).type());
        msgs.forEach(io.netty.util.ReferenceCountUtil::release);
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void writeLengthIsUnsigned() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdRequestDecoder(Integer.MAX_VALUE));
        // 0x80000000 would be negative as an int: it must count as 2 GiB, over the limit, and be skipped
        ch.writeInbound(pooled(bytes("25609513 0000 0001 0000000000000001 0000000000000000 80000000")));
        ByteBuf piece = PooledByteBufAllocator.DEFAULT.directBuffer(65536).writeZero(65536);
        ch.writeInbound(piece);
        assertEquals(0, piece.refCnt());
        assertNull(ch.readInbound());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void zeroLengthWriteHasEmptyPayload() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdRequestDecoder(0));
        ch.writeInbound(pooled(bytes("25609513 0000 0001 0000000000000001 0000000000000000 00000000" + FLUSH)));
        NbdRequest w = ch.readInbound();
        assertFalse(w.isOversized());
        assertEquals(0, w.payload().readableBytes());
        w.release();
        NbdRequest f = ch.readInbound();
        f.release();
        assertFalse(ch.finishAndReleaseAll());
    }
}
