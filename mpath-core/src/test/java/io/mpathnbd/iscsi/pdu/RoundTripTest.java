package io.mpathnbd.iscsi.pdu;

import static io.mpathnbd.core.support.WireBytes.bytes;
import static io.mpathnbd.core.support.WireBytes.content;
import static io.mpathnbd.core.support.WireBytes.drain;
import static io.mpathnbd.core.support.WireBytes.feed;
import static io.mpathnbd.core.support.WireBytes.hex;
import static io.mpathnbd.core.support.WireBytes.pooled;
import static io.mpathnbd.iscsi.pdu.IscsiWire.ascii;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.EncoderException;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * Both directions through encoder and decoder of the opposite side (the target-side pair a fake target will use),
 * with and without digests, in pieces of various sizes: every field and the data survive, and the bytes the target
 * encoder produces for each target PDU equal the hand-built ones of {@link TargetPduDecoderTest}.
 */
class RoundTripTest {
    private static List<IscsiPdu> initiatorPdus() {
        return List.of(
                new NopOut(true, 5, 1, Opcodes.RESERVED_TAG, 2, 3, pooled(ascii("ping!"))),
                new ScsiCommand(false, false, false, true, 1, 0x0001_0000_0000_0000L, 7, 65536, 9, 10,
                        bytes("8a00000000000000001000000080 0000"), pooled(new byte[8192])),
                new TaskManagementRequest(true, TaskManagementRequest.LOGICAL_UNIT_RESET, 3, 8, Opcodes.RESERVED_TAG,
                        11, 12, 0, 0),
                new LoginRequest(false, true, 1, 0, 0, 0, 0x3d_0000_0002L, 0x55, 0, 1, 13, 14,
                        pooled(ascii("MaxBurstLength=262144\0"))),
                new TextRequest(true, false, true, 0, 9, 0x1234, 15, 16, pooled(ascii("SendTargets=All\0"))),
                new DataOut(true, 0, 7, 0x99, 17, 3, 24576, pooled(new byte[1023])),
                new LogoutRequest(true, LogoutRequest.CLOSE_CONNECTION, 10, 1, 18, 19));
    }

    @ParameterizedTest
    @CsvSource({"false,false,1", "true,true,1", "true,false,13", "false,true,4096", "true,true,100000"})
    void initiatorPdusThroughTheTargetDecoder(boolean headerDigest, boolean dataDigest, int piece) {
        PduSettings settings = new PduSettings().headerDigest(headerDigest).dataDigest(dataDigest);
        EmbeddedChannel enc = new EmbeddedChannel(IscsiPduEncoder.initiator(settings));
        EmbeddedChannel dec = new EmbeddedChannel(IscsiPduDecoder.target(settings));
        for (IscsiPdu sent : initiatorPdus()) {
            String expected = sent.toString();
            byte[] sentData = content(sent.data());
            enc.writeOutbound(sent);
            List<Object> out = feed(dec, drain(enc), piece);
            assertEquals(1, out.size());
            IscsiPdu got = (IscsiPdu) out.get(0);
            assertEquals(expected, got.toString(), "every field survives");
            assertArrayEquals(sentData, content(got.data()));
            IscsiWire.release(got);
        }
        assertFalse(enc.finishAndReleaseAll());
        assertFalse(dec.finishAndReleaseAll());
    }

    @Test
    void targetEncoderProducesTheHandBuiltBytes() {
        PduSettings settings = new PduSettings();
        EmbeddedChannel dec = new EmbeddedChannel(IscsiPduDecoder.initiator(settings));
        EmbeddedChannel enc = new EmbeddedChannel(IscsiPduEncoder.target(settings));
        for (String hex : List.of(TargetPduDecoderTest.NOP_IN, TargetPduDecoderTest.SCSI_RESPONSE,
                TargetPduDecoderTest.TMF_RESPONSE, TargetPduDecoderTest.LOGIN_RESPONSE,
                TargetPduDecoderTest.TEXT_RESPONSE, TargetPduDecoderTest.DATA_IN,
                TargetPduDecoderTest.LOGOUT_RESPONSE, TargetPduDecoderTest.R2T, TargetPduDecoderTest.ASYNC,
                TargetPduDecoderTest.REJECT)) {
            List<Object> decoded = feed(dec, bytes(hex), 4096);
            assertEquals(1, decoded.size());
            enc.writeOutbound(decoded.get(0)); // the encoder releases it
            assertEquals(hex(bytes(hex)), hex(drain(enc)), "re-encoded " + decoded.get(0).getClass());
        }
        assertFalse(enc.finishAndReleaseAll());
        assertFalse(dec.finishAndReleaseAll());
    }

    @Test
    void targetSideRefusesTargetOpcodesAndTheOtherWay() {
        PduSettings settings = new PduSettings();
        EmbeddedChannel dec = new EmbeddedChannel(IscsiPduDecoder.target(settings));
        assertThrows(IscsiProtocolException.class, () -> feed(dec, bytes(TargetPduDecoderTest.NOP_IN), 48));
        EmbeddedChannel enc = new EmbeddedChannel(IscsiPduEncoder.target(settings));
        ByteBuf ping = pooled(ascii("x"));
        assertThrows(EncoderException.class,
                () -> enc.writeOutbound(new NopOut(true, 0, 1, Opcodes.RESERVED_TAG, 0, 0, ping)));
        assertEquals(0, ping.refCnt());
        assertFalse(enc.finishAndReleaseAll());
        assertFalse(dec.finishAndReleaseAll());
    }
}
