package io.mpathnbd.nbd.protocol;

import static io.mpathnbd.core.support.WireBytes.bytes;
import static io.mpathnbd.core.support.WireBytes.concat;
import static io.mpathnbd.core.support.WireBytes.drain;
import static io.mpathnbd.core.support.WireBytes.feed;
import static io.mpathnbd.core.support.WireBytes.hex;
import static io.mpathnbd.core.support.WireBytes.pooled;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.request.Extents;
import io.mpathnbd.core.support.WireBytes;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ReplyCodecTest {
    private static final String COOKIE = "0000000000000011";
    private static final String SIMPLE_OK_READ = "67446698 00000000 " + COOKIE + " deadbeef";
    private static final String SIMPLE_EIO = "67446698 00000005 0000000000000012";
    private static final String SIMPLE_OK_FLUSH = "67446698 00000000 0000000000000013";
    private static final String OFFSET_DATA = "668e33ef 0001 0001 " + COOKIE + " 0000000c 0000000000001000 deadbeef";
    private static final String OFFSET_HOLE = "668e33ef 0000 0002 " + COOKIE + " 0000000c 0000000000002000 00001000";
    private static final String NONE = "668e33ef 0001 0000 " + COOKIE + " 00000000";
    private static final String BLOCK_STATUS = "668e33ef 0001 0005 " + COOKIE
            + " 00000014 00000001 00001000 00000000 00002000 00000003";
    private static final String ERROR = "668e33ef 0001 8001 " + COOKIE + " 00000009 00000016 0003 626164";
    private static final String ERROR_OFFSET = "668e33ef 0001 8002 " + COOKIE
            + " 00000011 00000005 0003 626164 0000000000001000";

    /** The pending requests of a fake client: cookie 0x11 a 4-byte READ, 0x12 a READ, 0x13 a FLUSH. */
    private static final Map<Long, Integer> PENDING = Map.of(0x11L, 4, 0x12L, 512, 0x13L, 0);
    private static final ReadLengthLookup LOOKUP = cookie -> PENDING.getOrDefault(cookie, -1);

    private static EmbeddedChannel decoder() {
        return new EmbeddedChannel(new NbdReplyDecoder(LOOKUP, 1 << 20));
    }

    // ---- encoding ----

    @Test
    void encodesSimpleRepliesByteExactPassingReadDataOn() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdReplyEncoder());
        ByteBuf data = pooled(bytes("deadbeef"));
        ch.writeOutbound(new NbdSimpleReply(0, 0x11, data));
        List<ByteBuf> out = WireBytes.outbound(ch);
        assertEquals(2, out.size());
        assertEquals(hex(bytes("67446698 00000000 " + COOKIE)), hex(out.get(0)));
        assertSame(data, out.get(1), "READ data is forwarded, not copied");
        out.forEach(ByteBuf::release);
        assertEquals(0, data.refCnt());
        ch.writeOutbound(new NbdSimpleReply(5, 0x12), new NbdSimpleReply(0, 0x13));
        assertEquals(hex(bytes(SIMPLE_EIO + SIMPLE_OK_FLUSH)), hex(drain(ch)));
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void encodesEveryChunkTypeByteExact() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdReplyEncoder());
        ByteBuf data = pooled(bytes("deadbeef"));
        ch.writeOutbound(new NbdOffsetDataChunk(NbdConstants.REPLY_FLAG_DONE, 0x11, 4096, data));
        List<ByteBuf> out = WireBytes.outbound(ch);
        assertEquals(2, out.size());
        assertSame(data, out.get(1), "OFFSET_DATA data is forwarded, not copied");
        assertEquals(hex(bytes(OFFSET_DATA)),
                hex(concat(WireBytes.content(out.get(0)), WireBytes.content(out.get(1)))));
        out.forEach(ByteBuf::release);
        assertEquals(0, data.refCnt());

        ch.writeOutbound(new NbdOffsetHoleChunk(0, 0x11, 8192, 4096));
        assertEquals(hex(bytes(OFFSET_HOLE)), hex(drain(ch)));
        ch.writeOutbound(new NbdNoneChunk(0x11));
        assertEquals(hex(bytes(NONE)), hex(drain(ch)));
        ch.writeOutbound(new NbdBlockStatusChunk(NbdConstants.REPLY_FLAG_DONE, 0x11, 1,
                new Extents(new int[] {4096, 8192}, new int[] {0, NbdConstants.STATE_HOLE | NbdConstants.STATE_ZERO})));
        assertEquals(hex(bytes(BLOCK_STATUS)), hex(drain(ch)));
        ch.writeOutbound(new NbdErrorChunk(NbdConstants.REPLY_FLAG_DONE, 0x11, 22, "bad"));
        assertEquals(hex(bytes(ERROR)), hex(drain(ch)));
        ch.writeOutbound(new NbdErrorChunk(NbdConstants.REPLY_FLAG_DONE, 0x11, 5, "bad", 4096));
        assertEquals(hex(bytes(ERROR_OFFSET)), hex(drain(ch)));
        ch.writeOutbound(new NbdUnknownChunk(0, 0x8003, 0x11, pooled(bytes("0000001c 0000"))));
        assertEquals(hex(bytes("668e33ef 0000 8003 " + COOKIE + " 00000006 0000001c 0000")), hex(drain(ch)));
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void errorChunkMessagesAreUtf8AndCutAtTheStringLimit() {
        NbdErrorChunk accented = new NbdErrorChunk(NbdConstants.REPLY_FLAG_DONE, 1, 5, "é");
        assertEquals(2, accented.messageLength());
        assertEquals(8, accented.payloadLength());
        NbdErrorChunk huge = new NbdErrorChunk(NbdConstants.REPLY_FLAG_DONE, 1, 5, "é".repeat(3000));
        assertEquals(NbdConstants.MAX_STRING, huge.messageLength());
        EmbeddedChannel ch = new EmbeddedChannel(new NbdReplyEncoder());
        ch.writeOutbound(accented, huge);
        byte[] wire = drain(ch);
        assertEquals(20 + 8 + 20 + 6 + NbdConstants.MAX_STRING, wire.length);
        assertEquals(hex(bytes("668e33ef 0001 8001 0000000000000001 00000008 00000005 0002 c3a9")),
                hex(java.util.Arrays.copyOf(wire, 28)));
        EmbeddedChannel dec = new EmbeddedChannel(new NbdReplyDecoder(c -> 0, 0));
        List<Object> msgs = feed(dec, wire, 100);
        assertEquals("é", ((NbdErrorChunk) msgs.get(0)).message());
        assertEquals("é".repeat(2048), ((NbdErrorChunk) msgs.get(1)).message());
        assertFalse(ch.finishAndReleaseAll());
        assertFalse(dec.finishAndReleaseAll());
    }

    // ---- decoding ----

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 17, 4096})
    void decodesSimpleRepliesUsingTheReadLengthLookup(int piece) {
        EmbeddedChannel ch = decoder();
        List<Object> msgs = feed(ch, bytes(SIMPLE_OK_READ + SIMPLE_EIO + SIMPLE_OK_FLUSH), piece);
        assertEquals(3, msgs.size());
        NbdSimpleReply read = (NbdSimpleReply) msgs.get(0);
        assertEquals(0, read.error());
        assertEquals(0x11, read.cookie());
        assertEquals("deadbeef", hex(read.data()));
        assertNotNull(read.data().unwrap(), "READ data is a slice of the receive buffer");
        NbdSimpleReply failed = (NbdSimpleReply) msgs.get(1);
        assertEquals(5, failed.error());
        assertEquals(0, failed.data().readableBytes(), "a failed READ carries no data");
        NbdSimpleReply flush = (NbdSimpleReply) msgs.get(2);
        assertEquals(0, flush.error());
        assertEquals(0, flush.data().readableBytes());
        msgs.forEach(ReferenceCountUtil::release);
        assertEquals(0, read.refCnt());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void simpleReplyForUnknownCookieIsAProtocolError() {
        EmbeddedChannel ch = decoder();
        assertThrows(NbdProtocolException.class,
                () -> ch.writeInbound(pooled(bytes("67446698 00000000 00000000000000ff"))));
        ch.writeInbound(pooled(bytes(SIMPLE_OK_FLUSH)));
        assertNull(ch.readInbound(), "nothing is decoded after a protocol error");
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void readLongerThanTheLimitIsAProtocolError() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdReplyDecoder(c -> 1 << 20, 4096));
        assertThrows(NbdProtocolException.class, () -> ch.writeInbound(pooled(bytes(SIMPLE_OK_FLUSH))));
        assertFalse(ch.finishAndReleaseAll());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 19, 20, 21, 4096})
    void decodesEveryChunkTypeInAnyFragmentation(int piece) {
        EmbeddedChannel ch = decoder();
        String unknownError = "668e33ef 0000 8003 " + COOKIE + " 00000008 0000001c 0002 6869";
        List<Object> msgs = feed(ch, bytes(OFFSET_DATA + OFFSET_HOLE + BLOCK_STATUS + ERROR + ERROR_OFFSET
                + unknownError + NONE), piece);
        assertEquals(7, msgs.size());

        NbdOffsetDataChunk data = (NbdOffsetDataChunk) msgs.get(0);
        assertEquals(0x11, data.cookie());
        assertTrue(data.isDone());
        assertEquals(4096, data.offset());
        assertEquals("deadbeef", hex(data.data()));
        assertNotNull(data.data().unwrap(), "OFFSET_DATA data is a slice of the receive buffer");

        NbdOffsetHoleChunk hole = (NbdOffsetHoleChunk) msgs.get(1);
        assertFalse(hole.isDone());
        assertEquals(8192, hole.offset());
        assertEquals(4096, hole.holeSize());

        NbdBlockStatusChunk status = (NbdBlockStatusChunk) msgs.get(2);
        assertEquals(1, status.contextId());
        assertEquals(2, status.extents().count());
        assertEquals(4096, status.extents().length(0));
        assertEquals(0, status.extents().flags(0));
        assertEquals(8192, status.extents().length(1));
        assertEquals(Extents.HOLE | Extents.ZERO, status.extents().flags(1));

        NbdErrorChunk error = (NbdErrorChunk) msgs.get(3);
        assertTrue(error.isError());
        assertFalse(error.hasOffset());
        assertEquals(22, error.error());
        assertEquals("bad", error.message());

        NbdErrorChunk errorOffset = (NbdErrorChunk) msgs.get(4);
        assertTrue(errorOffset.hasOffset());
        assertEquals(5, errorOffset.error());
        assertEquals("bad", errorOffset.message());
        assertEquals(4096, errorOffset.offset());

        NbdUnknownChunk unknown = (NbdUnknownChunk) msgs.get(5);
        assertEquals(0x8003, unknown.type());
        assertTrue(unknown.isError());
        assertEquals(28, unknown.errorValue());
        assertEquals("0000001c00026869", hex(unknown.content()));

        NbdNoneChunk none = (NbdNoneChunk) msgs.get(6);
        assertTrue(none.isDone());
        assertEquals(0x11, none.cookie());

        msgs.forEach(ReferenceCountUtil::release);
        assertEquals(0, data.refCnt());
        assertEquals(0, unknown.refCnt());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void unknownNonErrorChunkIsCarriedRaw() {
        EmbeddedChannel ch = decoder();
        ch.writeInbound(pooled(bytes("668e33ef 0001 0003 " + COOKIE + " 00000003 010203")));
        NbdUnknownChunk chunk = ch.readInbound();
        assertEquals(3, chunk.type());
        assertFalse(chunk.isError());
        assertEquals(0, chunk.errorValue());
        assertEquals("010203", hex(chunk.content()));
        assertEquals(3, chunk.payloadLength());
        chunk.release();
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void structuredAndSimpleRepliesInterleave() {
        EmbeddedChannel ch = decoder();
        List<Object> msgs = feed(ch, bytes(OFFSET_HOLE + SIMPLE_OK_FLUSH + NONE + SIMPLE_OK_READ), 7);
        assertInstanceOf(NbdOffsetHoleChunk.class, msgs.get(0));
        assertInstanceOf(NbdSimpleReply.class, msgs.get(1));
        assertInstanceOf(NbdNoneChunk.class, msgs.get(2));
        assertEquals("deadbeef", hex(((NbdSimpleReply) msgs.get(3)).data()));
        msgs.forEach(ReferenceCountUtil::release);
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void roundTripThroughEncoderAndDecoder() {
        EmbeddedChannel server = new EmbeddedChannel(new NbdReplyEncoder());
        byte[] payload = new byte[100_000];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) (i * 7);
        }
        server.writeOutbound(
                new NbdOffsetDataChunk(0, 0x11, Long.MIN_VALUE, pooled(payload)),
                new NbdOffsetHoleChunk(0, 0x11, -4096L, -1),
                new NbdBlockStatusChunk(NbdConstants.REPLY_FLAG_DONE, 0x12, 7,
                        new Extents(new int[] {-1}, new int[] {Extents.HOLE})),
                new NbdErrorChunk(NbdConstants.REPLY_FLAG_DONE, 0x13, 28, "no space"),
                new NbdNoneChunk(-1L),
                new NbdSimpleReply(0, 0x11, pooled(bytes("01020304"))));
        EmbeddedChannel client = new EmbeddedChannel(new NbdReplyDecoder(LOOKUP, 1 << 17));
        List<Object> msgs = feed(client, drain(server), 1460);
        assertEquals(6, msgs.size());
        NbdOffsetDataChunk data = (NbdOffsetDataChunk) msgs.get(0);
        assertEquals(Long.MIN_VALUE, data.offset());
        assertEquals(hex(payload), hex(data.data()));
        NbdOffsetHoleChunk hole = (NbdOffsetHoleChunk) msgs.get(1);
        assertEquals(-4096L, hole.offset());
        assertEquals(0xffffffffL, Integer.toUnsignedLong(hole.holeSize()));
        NbdBlockStatusChunk status = (NbdBlockStatusChunk) msgs.get(2);
        assertEquals(7, status.contextId());
        assertEquals(-1, status.extents().length(0));
        NbdErrorChunk error = (NbdErrorChunk) msgs.get(3);
        assertEquals(28, error.error());
        assertEquals("no space", error.message());
        assertEquals(-1L, ((NbdNoneChunk) msgs.get(4)).cookie());
        assertEquals("01020304", hex(((NbdSimpleReply) msgs.get(5)).data()));
        msgs.forEach(ReferenceCountUtil::release);
        assertFalse(server.finishAndReleaseAll());
        assertFalse(client.finishAndReleaseAll());
    }

    @Test
    void oversizedChunkIsRefusedBeforeItsPayloadArrives() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdReplyDecoder(LOOKUP, 4096));
        long limit = 4096L + NbdReplyDecoder.CHUNK_OVERHEAD;
        ByteBuf header = pooled(bytes("668e33ef 0000 0001 " + COOKIE + String.format(" %08x", limit + 1)));
        assertThrows(NbdProtocolException.class, () -> ch.writeInbound(header));
        assertEquals(0, header.refCnt());
        assertFalse(ch.finishAndReleaseAll());

        // exactly at the limit is fine; a 4 GiB length is refused
        EmbeddedChannel ok = new EmbeddedChannel(new NbdReplyDecoder(LOOKUP, 4096));
        ok.writeInbound(pooled(concat(bytes("668e33ef 0000 0001 " + COOKIE + String.format(" %08x", limit)),
                new byte[(int) limit])));
        NbdOffsetDataChunk chunk = ok.readInbound();
        assertEquals(limit - 8, chunk.data().readableBytes());
        chunk.release();
        assertThrows(NbdProtocolException.class,
                () -> ok.writeInbound(pooled(bytes("668e33ef 0000 0001 " + COOKIE + " ffffffff"))));
        assertFalse(ok.finishAndReleaseAll());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "66778899 00000000 0000000000000013", // bad magic
        "668e33ef 0001 0000 0000000000000011 00000001 00", // NONE with payload
        "668e33ef 0000 0000 0000000000000011 00000000", // NONE without DONE
        "668e33ef 0001 0001 0000000000000011 00000008 0000000000000000", // OFFSET_DATA without data
        "668e33ef 0001 0002 0000000000000011 0000000b 0000000000000000 000010", // OFFSET_HOLE of 11 bytes
        "668e33ef 0001 0002 0000000000000011 0000000c 0000000000000000 00000000", // OFFSET_HOLE of size 0
        "668e33ef 0001 0005 0000000000000011 00000004 00000001", // BLOCK_STATUS without extents
        "668e33ef 0001 0005 0000000000000011 00000010 00000001 00001000 00000000 0000", // BLOCK_STATUS 4+12
        "668e33ef 0001 0005 0000000000000011 0000000c 00000001 00000000 00000000", // extent of length 0
        "668e33ef 0001 8001 0000000000000011 00000005 00000016 00", // ERROR shorter than 6
        "668e33ef 0001 8001 0000000000000011 00000006 00000000 0000", // ERROR with error 0
        "668e33ef 0001 8001 0000000000000011 00000008 00000016 0003 6261", // message longer than the chunk
        "668e33ef 0001 8002 0000000000000011 00000011 00000005 0004 626164 0000000000001000", // ERROR_OFFSET
        "668e33ef 0001 8009 0000000000000011 00000004 00000005", // unknown error type without message length
        "668e33ef 0001 8009 0000000000000011 00000007 00000005 0002 61", // unknown error type, message too long
    })
    void malformedRepliesAreProtocolErrors(String wire) {
        EmbeddedChannel ch = decoder();
        ByteBuf in = pooled(bytes(wire));
        assertThrows(NbdProtocolException.class, () -> ch.writeInbound(in));
        assertEquals(0, in.refCnt());
        ByteBuf more = pooled(bytes(NONE));
        ch.writeInbound(more);
        assertEquals(0, more.refCnt());
        assertNull(ch.readInbound());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void invalidUtf8InAnErrorMessageIsDecodedLeniently() {
        EmbeddedChannel ch = decoder();
        ch.writeInbound(pooled(bytes("668e33ef 0001 8001 " + COOKIE + " 00000009 00000005 0003 61ff62")));
        NbdErrorChunk error = ch.readInbound();
        assertEquals(5, error.error());
        assertEquals("a\uFFFDb", error.message());
        error.release();
        assertFalse(ch.finishAndReleaseAll());
    }
}
