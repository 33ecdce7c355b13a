package io.mpathnbd.iscsi.pdu;

import io.mpathnbd.core.buffer.PayloadCollector;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.support.WireBytes;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Data segments larger than one socket read (256 KiB Data-In, as tgt sends for large reads): gathered piece by piece
 * as they arrive, small pieces copied and large ones sliced, digests checked over the pieces, nothing leaked.
 */
class LargeSegmentDecoderTest {
    private static final int LENGTH = 256 * 1024 - 3; // odd: padding follows

    private static byte[] payload() {
        byte[] b = new byte[LENGTH];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (i * 31 + (i >>> 9));
        }
        return b;
    }

    /** The wire bytes of a final Data-In with status carrying {@code data}, as a target encoder writes them. */
    private static byte[] wire(byte[] data, boolean digests) {
        PduSettings target = new PduSettings().headerDigest(digests).dataDigest(digests)
                .maxSendDataSegmentLength(PduSettings.MAX_DATA_SEGMENT_LENGTH);
        EmbeddedChannel enc = new EmbeddedChannel(IscsiPduEncoder.target(target));
        enc.writeOutbound(new DataIn(0x81, 0, 0, 7, Opcodes.RESERVED_TAG, 3, 4, 20, 0, 0, 0,
                Unpooled.wrappedBuffer(data)));
        byte[] out = WireBytes.drain(enc);
        assertFalse(enc.finishAndReleaseAll());
        return out;
    }

    private static EmbeddedChannel decoder(boolean digests) {
        PduSettings settings = new PduSettings().headerDigest(digests).dataDigest(digests)
                .maxRecvDataSegmentLength(256 * 1024);
        return new EmbeddedChannel(IscsiPduDecoder.initiator(settings));
    }

    /** Feeds {@code bytes} in pieces whose sizes cycle through {@code pieces}. */
    private static List<Object> feed(EmbeddedChannel ch, byte[] bytes, int... pieces) {
        int i = 0;
        for (int k = 0; i < bytes.length; k++) {
            int n = Math.min(pieces[k % pieces.length], bytes.length - i);
            ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(n);
            b.writeBytes(bytes, i, n);
            ch.writeInbound(b);
            i += n;
        }
        return WireBytes.inbound(ch);
    }

    @ParameterizedTest
    @CsvSource({"false, 1000", "true, 1000", "false, 65536", "true, 65536", "true, 16384", "false, 262100",
            "true, 5"})
    void largeDataInSpanningReads(boolean digests, int piece) {
        byte[] data = payload();
        EmbeddedChannel ch = decoder(digests);
        List<Object> out = feed(ch, wire(data, digests), piece);
        assertEquals(1, out.size());
        DataIn d = assertInstanceOf(DataIn.class, out.get(0));
        assertEquals(7, d.itt());
        assertTrue(d.hasStatus());
        assertArrayEquals(data, WireBytes.content(d.data()));
        if (d.data() instanceof CompositeByteBuf) {
            int components = ((CompositeByteBuf) d.data()).numComponents();
            assertTrue(components <= 2 * (LENGTH / PayloadCollector.COPY_BELOW) + 2, components + " components");
        }
        IscsiWire.release(d);
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void mixedPieceSizesAlternateSlicesAndCopies() {
        byte[] data = payload();
        EmbeddedChannel ch = decoder(true);
        List<Object> out = feed(ch, wire(data, true), 1, 20000, 3, 70000, 500, 16384, 7);
        assertEquals(1, out.size());
        DataIn d = assertInstanceOf(DataIn.class, out.get(0));
        assertArrayEquals(data, WireBytes.content(d.data()));
        IscsiWire.release(d);
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void severalLargePdusBackToBack() {
        byte[] data = payload();
        byte[] one = wire(data, false);
        byte[] three = new byte[one.length * 3];
        for (int i = 0; i < 3; i++) {
            System.arraycopy(one, 0, three, i * one.length, one.length);
        }
        EmbeddedChannel ch = decoder(false);
        List<Object> out = feed(ch, three, 100_000);
        assertEquals(3, out.size());
        for (Object o : out) {
            DataIn d = assertInstanceOf(DataIn.class, o);
            assertArrayEquals(data, WireBytes.content(d.data()));
            IscsiWire.release(d);
        }
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void digestMismatchOnAGatheredSegmentIsAProtocolErrorAndLeaksNothing() {
        byte[] bytes = wire(payload(), true);
        bytes[bytes.length - 1] ^= 0x5a;
        EmbeddedChannel ch = decoder(true);
        IscsiProtocolException e = assertThrows(IscsiProtocolException.class, () -> feed(ch, bytes, 30000));
        assertTrue(e.getMessage().contains("data digest"), e.getMessage());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void connectionClosedInTheMiddleOfASegmentReleasesThePieces() {
        byte[] bytes = wire(payload(), false);
        EmbeddedChannel ch = decoder(false);
        ByteBuf half = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length / 2);
        half.writeBytes(bytes, 0, bytes.length / 2);
        ch.writeInbound(half);
        assertEquals(1, half.refCnt(), "the gathered slice holds the receive buffer");
        assertFalse(ch.finishAndReleaseAll());
        assertEquals(0, half.refCnt(), "released when the decoder goes away");
    }
}
