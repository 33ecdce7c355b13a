package io.mpathnbd.nbd.protocol;

import static io.mpathnbd.core.support.WireBytes.bytes;
import static io.mpathnbd.core.support.WireBytes.drain;
import static io.mpathnbd.core.support.WireBytes.feed;
import static io.mpathnbd.core.support.WireBytes.hex;
import static io.mpathnbd.core.support.WireBytes.pooled;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.request.Extents;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.EncoderException;
import io.netty.util.ReferenceCountUtil;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Extended headers (the spec's extension-ext-header branch), byte for byte, both directions. */
class ExtendedHeaderCodecTest {
    // WRITE+FUA+PAYLOAD_LEN, cookie 2, offset 512, payload length 4, payload deadbeef
    private static final String WRITE = "21e41c71 0021 0001 0000000000000002 0000000000000200 0000000000000004 deadbeef";
    // TRIM, cookie 4, offset 0, effect length 8 TiB (more than 32 bits)
    private static final String TRIM_8T = "21e41c71 0000 0004 0000000000000004 0000000000000000 0000080000000000";
    // BLOCK_STATUS+REQ_ONE, cookie 5, offset 2^40, effect length 2^64-1
    private static final String STATUS_MAX = "21e41c71 0008 0007 0000000000000005 0000010000000000 ffffffffffffffff";
    // FLUSH, cookie 3
    private static final String FLUSH = "21e41c71 0000 0003 0000000000000003 0000000000000000 0000000000000000";

    @Test
    void encodesExtendedRequestsAndSetsPayloadLenOnWrites() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdRequestEncoder(true));
        ch.writeOutbound(new NbdRequest(NbdConstants.CMD_FLAG_FUA, NbdConstants.CMD_WRITE, 2, 512, 4,
                pooled(bytes("deadbeef"))));
        ch.writeOutbound(new NbdRequest(0, NbdConstants.CMD_TRIM, 4, 0, 8L << 40));
        ch.writeOutbound(new NbdRequest(NbdConstants.CMD_FLAG_REQ_ONE, NbdConstants.CMD_BLOCK_STATUS, 5, 1L << 40,
                -1L));
        assertEquals(hex(bytes(WRITE + TRIM_8T + STATUS_MAX)), hex(drain(ch)));
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void aCompactEncoderRefusesALengthItCannotHoldRatherThanTruncating() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdRequestEncoder());
        assertThrows(EncoderException.class,
                () -> ch.writeOutbound(new NbdRequest(0, NbdConstants.CMD_TRIM, 1, 0, 1L << 32)));
        ByteBuf payload = pooled(bytes("00"));
        assertThrows(EncoderException.class, () -> ch.writeOutbound(new NbdRequest(
                NbdConstants.CMD_FLAG_PAYLOAD_LEN, NbdConstants.CMD_WRITE, 1, 0, 1, payload)));
        assertEquals(0, payload.refCnt());
        assertNull(ch.readOutbound());
        assertFalse(ch.finishAndReleaseAll());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 32, 33, 4096})
    void decodesExtendedRequestsInAnyFragmentation(int piece) {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdRequestDecoder(1 << 20, true));
        List<Object> msgs = feed(ch, bytes(WRITE + TRIM_8T + STATUS_MAX + FLUSH), piece);
        assertEquals(4, msgs.size());
        NbdRequest write = (NbdRequest) msgs.get(0);
        assertEquals(NbdConstants.CMD_WRITE, write.type());
        assertEquals(NbdConstants.CMD_FLAG_FUA | NbdConstants.CMD_FLAG_PAYLOAD_LEN, write.flags());
        assertEquals(512, write.offset());
        assertEquals(4, write.length());
        assertEquals("deadbeef", hex(write.payload()));
        NbdRequest trim = (NbdRequest) msgs.get(1);
        assertEquals(8L << 40, trim.length());
        NbdRequest status = (NbdRequest) msgs.get(2);
        assertEquals(-1L, status.length(), "2^64 - 1, unsigned");
        assertEquals(1L << 40, status.offset());
        assertEquals(NbdConstants.CMD_FLUSH, ((NbdRequest) msgs.get(3)).type());
        msgs.forEach(ReferenceCountUtil::release);
        assertEquals(0, write.refCnt());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void aWriteWithoutPayloadLenStillCarriesItsPayload() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdRequestDecoder(4096, true));
        // WRITE without PAYLOAD_LEN (as qemu 10 sends it), length 4, payload cafebabe, then a FLUSH
        List<Object> msgs = feed(ch, bytes("21e41c71 0000 0001 0000000000000007 0000000000000000 0000000000000004"
                + "cafebabe" + FLUSH), 4096);
        assertEquals(2, msgs.size());
        NbdRequest write = (NbdRequest) msgs.get(0);
        assertEquals(NbdConstants.CMD_WRITE, write.type());
        assertEquals(0, write.flags());
        assertEquals("cafebabe", hex(write.payload()));
        assertFalse(write.isOversized());
        assertEquals(NbdConstants.CMD_FLUSH, ((NbdRequest) msgs.get(1)).type());
        msgs.forEach(ReferenceCountUtil::release);
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void aPayloadOnAnotherCommandIsConsumedAndTheFlagKept() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdRequestDecoder(4096, true));
        // READ with PAYLOAD_LEN and 3 payload bytes
        ch.writeInbound(pooled(bytes("21e41c71 0020 0000 0000000000000008 0000000000000000 0000000000000003 aa")));
        assertNull(ch.readInbound());
        ByteBuf rest = pooled(bytes("bbcc" + FLUSH));
        ch.writeInbound(rest);
        assertEquals(0, rest.refCnt(), "a payload nobody uses is not kept");
        NbdRequest read = ch.readInbound();
        assertEquals(NbdConstants.CMD_READ, read.type());
        assertEquals(NbdConstants.CMD_FLAG_PAYLOAD_LEN, read.flags());
        assertEquals(3, read.length());
        assertFalse(read.isOversized());
        assertEquals(0, read.payload().readableBytes());
        read.release();
        NbdRequest flush = ch.readInbound();
        assertEquals(NbdConstants.CMD_FLUSH, flush.type());
        flush.release();
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void aPayloadBeyondTheLimitIsAProtocolError() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdRequestDecoder(4096, true));
        ByteBuf big = pooled(bytes("21e41c71 0020 0001 0000000000000009 0000000000000000 0000000000001001 00"));
        assertThrows(NbdProtocolException.class, () -> ch.writeInbound(big));
        assertEquals(0, big.refCnt());
        ch.writeInbound(pooled(bytes(FLUSH)));
        assertNull(ch.readInbound(), "nothing is decoded after a violation");
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void theOtherHeaderStyleIsAProtocolError() {
        EmbeddedChannel extended = new EmbeddedChannel(new NbdRequestDecoder(4096, true));
        // exactly one 28-byte compact header: refused on its magic, not awaited as the start of a 32-byte one
        NbdProtocolException e = assertThrows(NbdProtocolException.class, () -> extended.writeInbound(pooled(bytes(
                "25609513 0000 0003 0000000000000003 0000000000000000 00000000"))));
        assertTrue(e.getMessage().contains("compact"), e.getMessage());
        assertFalse(extended.finishAndReleaseAll());
        EmbeddedChannel compact = new EmbeddedChannel(new NbdRequestDecoder(4096, false));
        e = assertThrows(NbdProtocolException.class, () -> compact.writeInbound(pooled(bytes(FLUSH))));
        assertTrue(e.getMessage().contains("not negotiated"), e.getMessage());
        assertFalse(compact.finishAndReleaseAll());
    }

    @Test
    void encodesExtendedReplyChunksWithTheRequestOffset() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdReplyEncoder(true));
        ch.writeOutbound(new NbdNoneChunk(7).requestOffset(0x1000));
        ch.writeOutbound(new NbdOffsetDataChunk(NbdConstants.REPLY_FLAG_DONE, 8, 0x2000, pooled(bytes("cafe")))
                .requestOffset(0x2000));
        ch.writeOutbound(new NbdErrorChunk(NbdConstants.REPLY_FLAG_DONE, 9, 22, "no").requestOffset(5));
        ch.writeOutbound(new NbdBlockStatusChunk(NbdConstants.REPLY_FLAG_DONE, 10, 1,
                new Extents(new int[] {0x10000, -1}, new int[] {3, 0}), true).requestOffset(1L << 40));
        String none = "6e8a278c 0001 0000 0000000000000007 0000000000001000 0000000000000000";
        String data = "6e8a278c 0001 0001 0000000000000008 0000000000002000 000000000000000a 0000000000002000 cafe";
        String error = "6e8a278c 0001 8001 0000000000000009 0000000000000005 0000000000000008 00000016 0002 6e6f";
        String status = "6e8a278c 0001 0006 000000000000000a 0000010000000000 0000000000000028 00000001 00000002"
                + " 0000000000010000 00000000 00000003 00000000ffffffff 00000000 00000000";
        assertEquals(hex(bytes(none + data + error + status)), hex(drain(ch)));
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void anExtendedReplyEncoderRefusesSimpleReplies() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdReplyEncoder(true));
        assertThrows(EncoderException.class, () -> ch.writeOutbound(new NbdSimpleReply(0, 1)));
        EmbeddedChannel compact = new EmbeddedChannel(new NbdReplyEncoder(false));
        assertThrows(EncoderException.class, () -> compact.writeOutbound(new NbdBlockStatusChunk(
                NbdConstants.REPLY_FLAG_DONE, 1, 1, Extents.allData(512), true)));
        assertFalse(ch.finishAndReleaseAll());
        assertFalse(compact.finishAndReleaseAll());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 13, 32, 4096})
    void decodesExtendedRepliesAndBlockStatusExt(int piece) {
        String data = "6e8a278c 0001 0001 0000000000000008 0000000000002000 000000000000000a 0000000000002000 cafe";
        // two extents, the second 8 TiB (cut to 2^32 - 1), then one more that lies beyond it (dropped)
        String status = "6e8a278c 0001 0006 000000000000000a 0000000000000000 0000000000000038 00000001 00000003"
                + " 0000000000010000 00000000 00000003 0000080000000000 00000000 00000000"
                + " 0000000000001000 00000000 00000001";
        String none = "6e8a278c 0001 0000 0000000000000007 0000000000001000 0000000000000000";
        EmbeddedChannel ch = new EmbeddedChannel(new NbdReplyDecoder(c -> 0, 1 << 20, true));
        List<Object> msgs = feed(ch, bytes(data + status + none), piece);
        assertEquals(3, msgs.size());
        NbdOffsetDataChunk d = assertInstanceOf(NbdOffsetDataChunk.class, msgs.get(0));
        assertEquals(0x2000, d.offset());
        assertEquals(0x2000, d.requestOffset());
        assertEquals("cafe", hex(d.data()));
        NbdBlockStatusChunk s = assertInstanceOf(NbdBlockStatusChunk.class, msgs.get(1));
        assertTrue(s.isExtended());
        assertEquals(1, s.contextId());
        assertEquals(2, s.extents().count());
        assertEquals(0x10000, s.extents().length(0));
        assertEquals(3, s.extents().flags(0));
        assertEquals(0xffffffffL, Integer.toUnsignedLong(s.extents().length(1)));
        NbdNoneChunk n = assertInstanceOf(NbdNoneChunk.class, msgs.get(2));
        assertEquals(0x1000, n.requestOffset());
        msgs.forEach(ReferenceCountUtil::release);
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void anExtendedReplyDecoderRefusesOtherReplyStylesAndBadStatus() {
        EmbeddedChannel simple = new EmbeddedChannel(new NbdReplyDecoder(c -> 0, 4096, true));
        assertThrows(NbdProtocolException.class,
                () -> simple.writeInbound(pooled(bytes("67446698 00000000 0000000000000001"))));
        assertFalse(simple.finishAndReleaseAll());
        EmbeddedChannel compact = new EmbeddedChannel(new NbdReplyDecoder(c -> 0, 4096, false));
        assertThrows(NbdProtocolException.class, () -> compact.writeInbound(pooled(bytes(
                "6e8a278c 0001 0000 0000000000000007 0000000000001000 0000000000000000"))));
        assertFalse(compact.finishAndReleaseAll());
        EmbeddedChannel count = new EmbeddedChannel(new NbdReplyDecoder(c -> 0, 4096, true));
        assertThrows(NbdProtocolException.class, () -> count.writeInbound(pooled(bytes(
                "6e8a278c 0001 0006 000000000000000a 0000000000000000 0000000000000018 00000001 00000002"
                        + " 0000000000010000 00000000 00000003"))), "a descriptor count that does not match");
        assertFalse(count.finishAndReleaseAll());
        EmbeddedChannel huge = new EmbeddedChannel(new NbdReplyDecoder(c -> 0, 4096, true));
        assertThrows(NbdProtocolException.class, () -> huge.writeInbound(pooled(bytes(
                "6e8a278c 0001 0001 0000000000000008 0000000000002000 0000000100000000"))), "a 64-bit chunk length");
        assertFalse(huge.finishAndReleaseAll());
    }
}
