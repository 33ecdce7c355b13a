package io.mpathnbd.iscsi.pdu;

import static io.mpathnbd.core.support.WireBytes.bytes;
import static io.mpathnbd.core.support.WireBytes.concat;
import static io.mpathnbd.core.support.WireBytes.content;
import static io.mpathnbd.core.support.WireBytes.feed;
import static io.mpathnbd.core.support.WireBytes.hex;
import static io.mpathnbd.iscsi.pdu.IscsiWire.ascii;
import static io.mpathnbd.iscsi.pdu.IscsiWire.digest;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.support.WireBytes;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Decoding of every target PDU from headers built by hand from the RFC 7143 section 11 layouts. */
class TargetPduDecoderTest {
    private static final String ZERO12 = "00000000 00000000 00000000";
    static final String NOP_IN = "20 80 0000 | 00 000000 | 0000000000000000 | ffffffff | 00000042 | 00000005 | "
            + "00000006 | 00000015 | " + ZERO12;
    static final String SENSE = "70 00 05 00 00 00 00 0a 00 00 00 00 24 00 00 00 00 00";
    static final String SCSI_RESPONSE = "21 82 00 02 | 00 000014 | 0000000000000000 | 00000001 | 00000000 | 00000007 | "
            + "00000010 | 00000020 | 00000000 | 00000000 | 00000200 | 0012 " + SENSE;
    static final String TMF_RESPONSE = "22 80 01 00 | 00000000 | 0000000000000000 | 00000020 | 00000000 | 00000008 | "
            + "00000011 | 00000021 | " + ZERO12;
    static final String LOGIN_RESPONSE = "23 87 00 00 | 00 000012 | 023d00000001 0102 | 00000000 | 00000000 | "
            + "00000001 | 00000002 | 00000003 | 00 00 0000 | 0000000000000000 | " + hex(ascii("HeaderDigest=None\0"))
            + " 0000";
    static final String TEXT = "TargetName=iqn.2024-01.test:disk\0TargetAddress=127.0.0.1:3260,1\0";
    static final String TEXT_RESPONSE = "24 80 0000 | 00 " + String.format("%06x", TEXT.length())
            + " | 0000000000000000 | 00000005 | ffffffff | 00000009 | 0000000a | 0000002a | " + ZERO12 + " | "
            + hex(ascii(TEXT)) + "00".repeat(-TEXT.length() & 3);
    static final String DATA_IN = "25 81 00 00 | 00 000005 | 0000000000000000 | 00000001 | ffffffff | 00000008 | "
            + "00000009 | 00000029 | 00000000 | 00000000 | 00000000 | 6162636465 000000";
    static final String LOGOUT_RESPONSE = "26 80 00 00 | 00000000 | 0000000000000000 | 00000009 | 00000000 | 0000000a | "
            + "0000000b | 0000002b | 00000000 | 0002 0014 | 00000000";
    static final String R2T = "31 80 0000 | 00000000 | 0001000000000000 | 00000001 | 00000099 | 0000000b | 0000000c | "
            + "0000002c | 00000000 | 00002000 | 00040000";
    static final String ASYNC = "32 80 0000 | 00 000000 | 0001000000000000 | ffffffff | 00000000 | 0000000c | 0000000d | "
            + "0000002d | 01 00 0005 | 0000 0000 | 00000000";
    static final String REJECTED = "00 80 0000 00000000 0000000000000000 00000077 ffffffff 00000001 00000002 "
            + "00000000 00000000 00000000 00000000";
    static final String REJECT = "3f 80 09 00 | 00 000030 | 0000000000000000 | ffffffff | 00000000 | 0000000d | "
            + "0000000e | 0000002e | 00000000 | 0000000000000000 | " + REJECTED;

    private final PduSettings settings = new PduSettings();
    private final EmbeddedChannel ch = new EmbeddedChannel(IscsiPduDecoder.initiator(settings));

    private <T> T decodeOne(String hex, Class<T> type, int piece) {
        List<Object> out = feed(ch, bytes(hex), piece);
        assertEquals(1, out.size(), "one PDU from " + hex);
        return assertInstanceOf(type, out.get(0));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 7, 48, 4096})
    void nopInAskingForAnAnswer(int piece) {
        NopIn p = decodeOne(NOP_IN, NopIn.class, piece);
        assertTrue(p.needsAnswer());
        assertEquals(Opcodes.RESERVED_TAG, p.itt());
        assertEquals(0x42, p.ttt());
        assertEquals(5, p.statSN());
        assertEquals(6, p.expCmdSN());
        assertEquals(0x15, p.maxCmdSN());
        assertEquals(0, p.data().readableBytes());
        IscsiWire.release(p);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 5, 4096})
    void scsiResponseWithSenseAndResidual(int piece) {
        ScsiResponse p = decodeOne(SCSI_RESPONSE, ScsiResponse.class, piece);
        assertEquals(ScsiResponse.COMMAND_COMPLETED, p.response());
        assertEquals(0x02, p.status());
        assertTrue(p.residualUnderflow());
        assertFalse(p.residualOverflow());
        assertEquals(0x200, p.residualCount());
        assertEquals(1, p.itt());
        assertEquals(7, p.statSN());
        assertEquals(0x10, p.expCmdSN());
        assertEquals(0x20, p.maxCmdSN());
        assertEquals(hex(bytes(SENSE)), hex(p.senseData()));
        IscsiWire.release(p);
    }

    @Test
    void taskManagementResponse() {
        TaskManagementResponse p = decodeOne(TMF_RESPONSE, TaskManagementResponse.class, 1);
        assertEquals(TaskManagementResponse.TASK_DOES_NOT_EXIST, p.response());
        assertEquals(0x20, p.itt());
        assertEquals(8, p.statSN());
        IscsiWire.release(p);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 4096})
    void loginResponseTransitToFullFeature(int piece) {
        LoginResponse p = decodeOne(LOGIN_RESPONSE, LoginResponse.class, piece);
        assertTrue(p.transit());
        assertFalse(p.isContinue());
        assertEquals(LoginStage.OPERATIONAL_NEGOTIATION, p.currentStage());
        assertEquals(LoginStage.FULL_FEATURE_PHASE, p.nextStage());
        assertEquals(0x023d_0000_0001L, p.isid());
        assertEquals(0x0102, p.tsih());
        assertTrue(p.succeeded());
        assertEquals(1, p.statSN());
        assertEquals(3, p.maxCmdSN());
        assertEquals("HeaderDigest=None", TextKeys.decode(p.data()).pairs().get(0).toString());
        IscsiWire.release(p);
    }

    @Test
    void loginResponseAuthenticationFailure() {
        LoginResponse p = decodeOne("23 00 00 00 | 00000000 | 023d00000001 0000 | 00000000 | 00000000 | 00000000 | "
                + "00000001 | 00000001 | 02 01 0000 | 0000000000000000", LoginResponse.class, 48);
        assertFalse(p.succeeded());
        assertEquals(LoginResponse.CLASS_INITIATOR_ERROR, p.statusClass());
        assertEquals(1, p.statusDetail());
        IscsiWire.release(p);
    }

    @Test
    void textResponseSendTargets() {
        TextResponse p = decodeOne(TEXT_RESPONSE, TextResponse.class, 2);
        assertTrue(p.isFinal());
        TextKeys keys = TextKeys.decode(p.data());
        assertEquals("iqn.2024-01.test:disk", keys.get("TargetName"));
        assertEquals("127.0.0.1:3260,1", keys.get("TargetAddress"));
        IscsiWire.release(p);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 4096})
    void dataInWithStatusAndPadding(int piece) {
        DataIn p = decodeOne(DATA_IN, DataIn.class, piece);
        assertTrue(p.isFinal());
        assertTrue(p.hasStatus());
        assertEquals(0, p.status());
        assertEquals(8, p.statSN());
        assertEquals(0, p.dataSN());
        assertEquals(0, p.bufferOffset());
        assertArrayEquals(ascii("abcde"), content(p.data()));
        IscsiWire.release(p);
    }

    @Test
    void logoutResponse() {
        LogoutResponse p = decodeOne(LOGOUT_RESPONSE, LogoutResponse.class, 1);
        assertEquals(LogoutResponse.CLOSED_SUCCESSFULLY, p.response());
        assertEquals(2, p.time2Wait());
        assertEquals(20, p.time2Retain());
        IscsiWire.release(p);
    }

    @Test
    void readyToTransfer() {
        ReadyToTransfer p = decodeOne(R2T, ReadyToTransfer.class, 1);
        assertEquals(0x0001_0000_0000_0000L, p.lun());
        assertEquals(1, p.itt());
        assertEquals(0x99, p.ttt());
        assertEquals(0, p.r2tSN());
        assertEquals(0x2000, p.bufferOffset());
        assertEquals(0x40000, p.desiredLength());
        IscsiWire.release(p);
    }

    @Test
    void asyncMessageLogoutRequested() {
        AsyncMessage p = decodeOne(ASYNC, AsyncMessage.class, 1);
        assertEquals(AsyncMessage.LOGOUT_REQUESTED, p.event());
        assertEquals(5, p.parameter1());
        assertEquals(0x0c, p.statSN());
        IscsiWire.release(p);
    }

    @Test
    void rejectCarriesTheRejectedHeader() {
        Reject p = decodeOne(REJECT, Reject.class, 1);
        assertEquals(Reject.INVALID_PDU_FIELD, p.reason());
        assertEquals(Opcodes.NOP_OUT, p.rejectedOpcode());
        assertEquals(0x77, p.rejectedItt());
        IscsiWire.release(p);
    }

    @Test
    void severalPdusInOneBuffer() {
        List<Object> out = feed(ch, concat(bytes(NOP_IN), bytes(DATA_IN), bytes(R2T), bytes(SCSI_RESPONSE)), 100000);
        assertEquals(4, out.size());
        assertInstanceOf(NopIn.class, out.get(0));
        assertInstanceOf(DataIn.class, out.get(1));
        assertInstanceOf(ReadyToTransfer.class, out.get(2));
        assertInstanceOf(ScsiResponse.class, out.get(3));
        out.forEach(o -> IscsiWire.release((IscsiPdu) o));
    }

    @Test
    void dataIsARetainedSliceOfTheReceiveBuffer() {
        ByteBuf in = WireBytes.pooled(bytes(DATA_IN));
        ch.writeInbound(in);
        DataIn p = ch.readInbound();
        assertEquals(1, in.refCnt(), "the slice keeps the receive buffer");
        IscsiWire.release(p);
        assertEquals(0, in.refCnt());
    }

    @Test
    void digestsVerifiedWhenEnabled() {
        settings.headerDigest(true).dataDigest(true);
        byte[] bhs = bytes(DATA_IN.substring(0, DATA_IN.indexOf("6162")));
        Crc32c crc = new Crc32c();
        String hd = digest(crc.of(Unpooled.wrappedBuffer(bhs), 0, 48));
        String dd = digest(crc.of(Unpooled.wrappedBuffer(bytes("6162636465 000000")), 0, 8));
        String wire = hex(bhs) + hd + "6162636465 000000" + dd;
        DataIn p = decodeOne(wire, DataIn.class, 1);
        assertArrayEquals(ascii("abcde"), content(p.data()));
        IscsiWire.release(p);
    }

    @Test
    void headerDigestMismatchIsAProtocolError() {
        settings.headerDigest(true);
        IscsiProtocolException e = assertThrows(IscsiProtocolException.class,
                () -> feed(ch, bytes(NOP_IN + " 00000000"), 7));
        assertTrue(e.getMessage().contains("header digest"), e.getMessage());
        assertEquals(0, feed(ch, bytes(NOP_IN), 48).size(), "the stream is discarded after a failure");
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void dataDigestMismatchIsAProtocolErrorAndLeaksNothing() {
        settings.dataDigest(true);
        IscsiProtocolException e = assertThrows(IscsiProtocolException.class,
                () -> feed(ch, bytes(DATA_IN + " 12345678"), 4096));
        assertTrue(e.getMessage().contains("data digest"), e.getMessage());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void dataSegmentAboveTheDeclaredLimitIsRefused() {
        settings.maxRecvDataSegmentLength(512);
        String header = "25 01 00 00 | 00 000201 | 0000000000000000 | 00000001 | ffffffff | 00000000 | 00000000 | "
                + "00000000 | 00000000 | 00000000 | 00000000";
        IscsiProtocolException e = assertThrows(IscsiProtocolException.class, () -> feed(ch, bytes(header), 48));
        assertTrue(e.getMessage().contains("MaxRecvDataSegmentLength 512"), e.getMessage());
    }

    @Test
    void refusesInitiatorOpcodesImmediateBitAndBrokenFields() {
        assertProtocolError("01" + NOP_IN.substring(2).replace(" ", ""), "not a target PDU");
        assertProtocolError("60" + NOP_IN.substring(2).replace(" ", ""), "immediate");
        assertProtocolError("a0" + NOP_IN.substring(2).replace(" ", ""), "reserved bit 7");
        // Data-In with S but without F
        assertProtocolError(DATA_IN.replaceFirst("25 81", "25 01"), "without the F bit");
        // R2T with a data segment
        assertProtocolError(R2T.replaceFirst("00000000", "00000004") + " 00000000", "R2T with a data segment");
        // sense length longer than the segment
        assertProtocolError(SCSI_RESPONSE.replace("0012 ", "0013 "), "sense data does not fit");
        // login response with both T and C
        assertProtocolError(LOGIN_RESPONSE.replaceFirst("23 87", "23 c7"), "both T and C");
        // reject too short to hold the rejected header
        assertProtocolError("3f 80 09 00 00 000004 0000000000000000 ffffffff 00000000 0000000d 0000000e 0000002e "
                + "00000000 0000000000000000 01020304", "rejected 48-byte header");
    }

    private void assertProtocolError(String hex, String fragment) {
        EmbeddedChannel c = new EmbeddedChannel(IscsiPduDecoder.initiator(new PduSettings()));
        IscsiProtocolException e = assertThrows(IscsiProtocolException.class, () -> feed(c, bytes(hex), 1));
        assertTrue(e.getMessage().contains(fragment), e.getMessage() + " should mention " + fragment);
        assertFalse(c.finishAndReleaseAll());
    }

    /**
     * The login layer turns digests on when the final Login Response arrives; the next PDU may already be in the same
     * receive buffer and must be parsed with the new settings.
     */
    @Test
    void settingsChangedOnLoginResponseApplyToTheNextPduInTheSameBuffer() {
        EmbeddedChannel c = new EmbeddedChannel(IscsiPduDecoder.initiator(settings),
                new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        if (msg instanceof LoginResponse) {
                            settings.headerDigest(true).dataDigest(true);
                        }
                        ctx.fireChannelRead(msg);
                    }
                });
        byte[] nop = bytes(NOP_IN);
        String hd = digest(new Crc32c().of(Unpooled.wrappedBuffer(nop), 0, 48));
        List<Object> out = feed(c, concat(bytes(LOGIN_RESPONSE), nop, bytes(hd)), 100000);
        assertEquals(2, out.size());
        assertInstanceOf(LoginResponse.class, out.get(0));
        assertInstanceOf(NopIn.class, out.get(1));
        out.forEach(o -> IscsiWire.release((IscsiPdu) o));
        assertFalse(c.finishAndReleaseAll());
    }

    @Test
    void additionalHeaderSegmentsAreSkippedAndCoveredByTheHeaderDigest() {
        settings.headerDigest(true);
        byte[] bhs = bytes(NOP_IN.replaceFirst("00 000000", "03 000000"));
        byte[] ahs = bytes("0005 01 00 0102030405 000000");
        byte[] header = concat(bhs, ahs);
        String hd = digest(new Crc32c().of(Unpooled.wrappedBuffer(header), 0, header.length));
        NopIn p = decodeOne(hex(header) + hd, NopIn.class, 5);
        assertEquals(0x42, p.ttt());
        IscsiWire.release(p);
    }
}
