package io.mpathnbd.nbd.protocol;

import static io.mpathnbd.core.support.WireBytes.content;
import static io.mpathnbd.core.support.WireBytes.inbound;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.support.WireBytes;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * How the decoders gather large payloads: slices of the receive buffers rather than copies, whatever the
 * fragmentation, with copies only for tiny pieces (bounded composites) and for small payloads in mostly empty buffers
 * (bounded memory pinning). Whether a receive buffer is still referenced after the decoder is done with it shows
 * whether the payload was sliced from it or copied out of it.
 */
class PayloadGatheringTest {
    private static final int MIB = 1 << 20;

    @Test
    void largeWriteSpanningReceiveBuffersIsGatheredAsSlicesNotCopied() {
        byte[] data = random(MIB);
        byte[] wire = WireBytes.concat(writeHeader(7, MIB), data);
        EmbeddedChannel ch = new EmbeddedChannel(new NbdRequestDecoder(32 * MIB));
        // 100 KiB reads: the last holds 24 KiB, above the size below which pieces are copied
        List<ByteBuf> pieces = feed(ch, wire, 100 * 1024);
        List<Object> msgs = inbound(ch);
        assertEquals(1, msgs.size());
        NbdRequest write = (NbdRequest) msgs.get(0);
        assertArrayEquals(data, content(write.payload()));
        assertInstanceOf(CompositeByteBuf.class, write.payload(), "a payload over several reads is a composite");
        for (ByteBuf piece : pieces) {
            assertEquals(1, piece.refCnt(), "each receive buffer is held by the payload: sliced, not copied");
        }
        write.release();
        for (ByteBuf piece : pieces) {
            assertEquals(0, piece.refCnt());
        }
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void largeReadReplySpanningReceiveBuffersIsGatheredAsSlicesNotCopied() {
        byte[] data = random(MIB);
        ByteBuf header = PooledByteBufAllocator.DEFAULT.heapBuffer(16);
        header.writeInt(NbdConstants.SIMPLE_REPLY_MAGIC).writeInt(0).writeLong(9);
        byte[] wire = WireBytes.concat(content(header), data);
        header.release();
        EmbeddedChannel ch = new EmbeddedChannel(new NbdReplyDecoder(c -> c == 9 ? MIB : -1, 32 * MIB));
        // pieces that do not line up with the header: the header ends inside the first one
        List<ByteBuf> pieces = feed(ch, wire, 100 * 1024);
        List<Object> msgs = inbound(ch);
        assertEquals(1, msgs.size());
        NbdSimpleReply reply = (NbdSimpleReply) msgs.get(0);
        assertArrayEquals(data, content(reply.content()));
        for (ByteBuf piece : pieces) {
            assertEquals(1, piece.refCnt(), "each receive buffer is held by the data: sliced, not copied");
        }
        reply.release();
        for (ByteBuf piece : pieces) {
            assertEquals(0, piece.refCnt());
        }
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void offsetDataChunkAcrossBuffersKeepsItsOffsetAndData() {
        byte[] data = random(300 * 1024);
        ByteBuf header = PooledByteBufAllocator.DEFAULT.heapBuffer(28);
        header.writeInt(NbdConstants.STRUCTURED_REPLY_MAGIC).writeShort(NbdConstants.REPLY_FLAG_DONE)
                .writeShort(NbdConstants.REPLY_TYPE_OFFSET_DATA).writeLong(5).writeInt(8 + data.length)
                .writeLong(1L << 33);
        byte[] wire = WireBytes.concat(content(header), data);
        header.release();
        EmbeddedChannel ch = new EmbeddedChannel(new NbdReplyDecoder(c -> data.length, 32 * MIB));
        // the first piece ends inside the data offset field, after the 20-byte chunk header
        List<ByteBuf> pieces = feed(ch, wire, 24, 64 * 1024);
        List<Object> msgs = inbound(ch);
        assertEquals(1, msgs.size());
        NbdOffsetDataChunk chunk = (NbdOffsetDataChunk) msgs.get(0);
        assertEquals(1L << 33, chunk.offset());
        assertTrue(chunk.isDone());
        assertArrayEquals(data, content(chunk.data()));
        chunk.release();
        pieces.forEach(p -> assertEquals(0, p.refCnt()));
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void tricklingSenderGetsACopyInFewBuffersNotAComponentPerByte() {
        int length = 100_000;
        byte[] data = random(length);
        byte[] wire = WireBytes.concat(writeHeader(1, length), data);
        EmbeddedChannel ch = new EmbeddedChannel(new NbdRequestDecoder(32 * MIB));
        List<ByteBuf> pieces = feed(ch, wire, 7);
        NbdRequest write = (NbdRequest) inbound(ch).get(0);
        assertArrayEquals(data, content(write.payload()));
        CompositeByteBuf composite = assertInstanceOf(CompositeByteBuf.class, write.payload());
        assertTrue(composite.numComponents() <= 2, "copied into buffers of up to 64 KiB, not "
                + composite.numComponents() + " components");
        pieces.forEach(p -> assertEquals(0, p.refCnt(), "tiny pieces are copied, not held"));
        write.release();
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void smallWriteInAMostlyEmptyBufferIsCopiedSoTheBufferIsNotPinned() {
        byte[] data = random(4096);
        ByteBuf big = PooledByteBufAllocator.DEFAULT.directBuffer(MIB);
        big.writeBytes(writeHeader(3, data.length)).writeBytes(data);
        EmbeddedChannel ch = new EmbeddedChannel(new NbdRequestDecoder(32 * MIB));
        ch.writeInbound(big);
        NbdRequest write = (NbdRequest) inbound(ch).get(0);
        assertEquals(0, big.refCnt(), "the 1 MiB receive buffer is free while the 4 KiB write is held");
        assertArrayEquals(data, content(write.payload()));
        write.release();
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void smallWritesFillingTheirBufferAreSlices() {
        int count = 8;
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(count * (28 + 4096));
        for (int i = 0; i < count; i++) {
            buf.writeBytes(writeHeader(i, 4096)).writeBytes(random(4096));
        }
        EmbeddedChannel ch = new EmbeddedChannel(new NbdRequestDecoder(32 * MIB));
        ch.writeInbound(buf);
        List<Object> msgs = inbound(ch);
        assertEquals(count, msgs.size());
        assertEquals(count, buf.refCnt(), "every payload is a retained slice of the one receive buffer");
        msgs.forEach(m -> ((NbdRequest) m).release());
        assertEquals(0, buf.refCnt());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void aPartlyGatheredPayloadIsReleasedWhenTheConnectionCloses() {
        byte[] wire = WireBytes.concat(writeHeader(1, MIB), random(200 * 1024));
        EmbeddedChannel ch = new EmbeddedChannel(new NbdRequestDecoder(32 * MIB));
        List<ByteBuf> pieces = feed(ch, wire, 64 * 1024);
        assertTrue(inbound(ch).isEmpty());
        assertFalse(ch.finishAndReleaseAll());
        pieces.forEach(p -> assertEquals(0, p.refCnt(), "nothing gathered survives the decoder"));
    }

    private static byte[] writeHeader(long cookie, int length) {
        ByteBuf h = PooledByteBufAllocator.DEFAULT.heapBuffer(28);
        h.writeInt(NbdConstants.REQUEST_MAGIC).writeShort(0).writeShort(NbdConstants.CMD_WRITE).writeLong(cookie)
                .writeLong(0).writeInt(length);
        byte[] out = content(h);
        h.release();
        return out;
    }

    /** Feeds {@code wire} in pooled pieces (the first {@code first} bytes long, the rest {@code piece}). */
    private static List<ByteBuf> feed(EmbeddedChannel ch, byte[] wire, int first, int piece) {
        List<ByteBuf> pieces = new ArrayList<>();
        for (int i = 0; i < wire.length; ) {
            int n = Math.min(i == 0 ? first : piece, wire.length - i);
            ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(n);
            b.writeBytes(wire, i, n);
            pieces.add(b);
            ch.writeInbound(b);
            i += n;
        }
        return pieces;
    }

    private static List<ByteBuf> feed(EmbeddedChannel ch, byte[] wire, int piece) {
        return feed(ch, wire, piece, piece);
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new Random(n).nextBytes(b);
        return b;
    }
}
