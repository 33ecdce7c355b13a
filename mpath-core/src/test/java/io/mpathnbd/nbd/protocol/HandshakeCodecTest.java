package io.mpathnbd.nbd.protocol;

import static io.mpathnbd.core.support.WireBytes.bytes;
import static io.mpathnbd.core.support.WireBytes.concat;
import static io.mpathnbd.core.support.WireBytes.drain;
import static io.mpathnbd.core.support.WireBytes.feed;
import static io.mpathnbd.core.support.WireBytes.hex;
import static io.mpathnbd.core.support.WireBytes.pooled;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.support.WireBytes;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.EncoderException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HandshakeCodecTest {
    private static final String GREETING = "4e42444d41474943 49484156454f5054 0003";
    // GO "disk" asking for BLOCK_SIZE: u32 4, "disk", u16 1, u16 3
    private static final String GO_DATA = "00000004 6469736b 0001 0003";
    private static final String GO_OPTION = "49484156454f5054 00000007 0000000c " + GO_DATA;
    // INFO_EXPORT: 1 GiB, flags HAS_FLAGS|SEND_FLUSH|SEND_FUA|SEND_TRIM|SEND_WRITE_ZEROES
    private static final String INFO_EXPORT_DATA = "0000 0000000040000000 006d";
    private static final String INFO_EXPORT_REPLY = "0003e889045565a9 00000007 00000003 0000000c " + INFO_EXPORT_DATA;
    private static final String GO_ACK = "0003e889045565a9 00000007 00000001 00000000";

    // ---- server side ----

    @Test
    void serverEncodesGreetingByteExact() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdServerHandshakeEncoder());
        ch.writeOutbound(new NbdServerGreeting(NbdConstants.FLAG_FIXED_NEWSTYLE | NbdConstants.FLAG_NO_ZEROES));
        assertEquals(hex(bytes(GREETING)), hex(drain(ch)));
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void serverEncodesOptionReplyWithDataPassedOnNotCopied() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdServerHandshakeEncoder());
        ByteBuf data = NbdOptionPayloads.infoExport(ByteBufAllocator.DEFAULT, 1L << 30, 0x6d);
        ch.writeOutbound(new NbdOptionReply(NbdConstants.OPT_GO, NbdConstants.REP_INFO, data));
        List<ByteBuf> out = WireBytes.outbound(ch);
        assertEquals(2, out.size());
        assertEquals(hex(bytes("0003e889045565a9 00000007 00000003 0000000c")), hex(out.get(0)));
        assertSame(data, out.get(1), "the reply data is forwarded, not copied");
        assertEquals(hex(bytes(INFO_EXPORT_DATA)), hex(out.get(1)));
        out.forEach(ByteBuf::release);
        assertEquals(0, data.refCnt());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void serverEncodesAckAndErrorReplies() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdServerHandshakeEncoder());
        ch.writeOutbound(new NbdOptionReply(NbdConstants.OPT_GO, NbdConstants.REP_ACK, null));
        ch.writeOutbound(new NbdOptionReply(NbdConstants.OPT_STARTTLS, NbdConstants.REP_ERR_POLICY,
                NbdOptionPayloads.errorMessage(ByteBufAllocator.DEFAULT, "no TLS")));
        assertEquals(hex(bytes(GO_ACK + "0003e889045565a9 00000005 80000002 00000006 6e6f20544c53")),
                hex(drain(ch)));
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void serverEncodesExportNameReplyWithAndWithoutZeroes() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdServerHandshakeEncoder());
        ch.writeOutbound(new NbdExportNameReply(1L << 30, 0x6d, true));
        assertEquals(hex(bytes("0000000040000000 006d")), hex(drain(ch)));
        ch.writeOutbound(new NbdExportNameReply(1L << 30, 0x6d, false));
        assertEquals(hex(bytes("0000000040000000 006d" + "00".repeat(124))), hex(drain(ch)));
        assertFalse(ch.finishAndReleaseAll());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 1000})
    void serverDecodesFlagsThenOptionsInAnyFragmentation(int piece) {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdServerHandshakeDecoder(4096));
        byte[] wire = concat(bytes("00000003"), bytes("49484156454f5054 00000008 00000000"), bytes(GO_OPTION));
        List<Object> msgs = feed(ch, wire, piece);
        assertEquals(3, msgs.size());
        assertEquals(new NbdClientFlags(3), msgs.get(0));
        NbdOption structured = (NbdOption) msgs.get(1);
        assertEquals(NbdConstants.OPT_STRUCTURED_REPLY, structured.option());
        assertEquals(0, structured.data().readableBytes());
        assertFalse(structured.isTooBig());
        NbdOption go = (NbdOption) msgs.get(2);
        assertEquals(NbdConstants.OPT_GO, go.option());
        assertEquals(hex(bytes(GO_DATA)), hex(go.data()));
        NbdOptionPayloads.ExportRequest req = NbdOptionPayloads.parseInfoOrGo(go.data());
        assertEquals("disk", req.name());
        assertArrayEquals(new int[] {NbdConstants.INFO_BLOCK_SIZE}, req.infoRequests());
        structured.release();
        assertTrue(go.release());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void serverDecoderRejectsBadOptionMagicAndIgnoresTheRest() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdServerHandshakeDecoder(4096));
        ch.writeInbound(pooled(bytes("00000001")));
        assertInstanceOf(NbdClientFlags.class, ch.readInbound());
        ByteBuf bad = pooled(bytes("49484156454f5055 00000007 00000000"));
        assertThrows(NbdProtocolException.class, () -> ch.writeInbound(bad));
        assertEquals(0, bad.refCnt());
        ByteBuf more = pooled(bytes(GO_OPTION));
        ch.writeInbound(more);
        assertEquals(0, more.refCnt());
        assertNull(ch.readInbound(), "nothing decoded after a protocol error");
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void serverSkipsTooBigOptionDataWithoutBufferingItThenDecodesTheNextOption() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdServerHandshakeDecoder(64));
        ch.writeInbound(pooled(bytes("00000003")));
        assertInstanceOf(NbdClientFlags.class, ch.readInbound());
        // a GO announcing 1000 bytes of data: header alone, then the data in pieces
        ch.writeInbound(pooled(bytes("49484156454f5054 00000007 000003e8")));
        assertNull(ch.readInbound());
        for (int i = 0; i < 9; i++) {
            ByteBuf piece = pooled(new byte[100]);
            ch.writeInbound(piece);
            assertEquals(0, piece.refCnt(), "skipped option data must not be held by the decoder");
            assertNull(ch.readInbound(), "no message before all the data has gone by");
        }
        // the last 100 bytes of data arrive together with the next option (ABORT) and part of a third
        ByteBuf tail = pooled(concat(new byte[100], bytes("49484156454f5054 00000002 00000000"),
                bytes("49484156")));
        ch.writeInbound(tail);
        NbdOption tooBig = ch.readInbound();
        assertTrue(tooBig.isTooBig());
        assertEquals(NbdConstants.OPT_GO, tooBig.option());
        assertEquals(1000, tooBig.declaredLength());
        assertEquals(0, tooBig.data().readableBytes());
        tooBig.release();
        NbdOption abort = ch.readInbound();
        assertEquals(NbdConstants.OPT_ABORT, abort.option());
        assertFalse(abort.isTooBig());
        abort.release();
        ch.writeInbound(pooled(bytes("454f5054 00000003 00000000")));
        NbdOption list = ch.readInbound();
        assertEquals(NbdConstants.OPT_LIST, list.option());
        list.release();
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void serverTreatsOptionLengthAsUnsigned() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdServerHandshakeDecoder(1 << 20));
        ch.writeInbound(pooled(bytes("00000003 49484156454f5054 00000006 ffffffff")));
        assertInstanceOf(NbdClientFlags.class, ch.readInbound());
        ByteBuf piece = pooled(new byte[4096]);
        ch.writeInbound(piece);
        assertEquals(0, piece.refCnt(), "4 GiB of announced data is skipped, not buffered");
        assertNull(ch.readInbound());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void serverOptionDataAtTheLimitIsDelivered() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdServerHandshakeDecoder(12));
        List<Object> msgs = feed(ch, concat(bytes("00000003"), bytes(GO_OPTION)), 5);
        NbdOption go = (NbdOption) msgs.get(1);
        assertFalse(go.isTooBig());
        assertEquals(12, go.data().readableBytes());
        go.release();
        assertFalse(ch.finishAndReleaseAll());
    }

    /** A handler that swaps in the request decoder when GO arrives, as the front end does. */
    @Test
    void serverDecoderHandsBytesAfterGoToTheRequestDecoder() {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.pipeline().addLast("handshake", new NbdServerHandshakeDecoder(4096));
        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                boolean go = msg instanceof NbdOption && ((NbdOption) msg).option() == NbdConstants.OPT_GO;
                ctx.fireChannelRead(msg);
                // replacing re-delivers the bytes after GO at once, so GO is passed on first
                if (go) {
                    ctx.pipeline().replace("handshake", "requests", new NbdRequestDecoder(1 << 20));
                }
            }
        });
        byte[] flush = bytes("25609513 0000 0003 0000000000000007 0000000000000000 00000000");
        // the FLUSH arrives in the same read as GO: the request decoder, not the option decoder, must get it
        List<Object> msgs = feed(ch, concat(bytes("00000003"), bytes(GO_OPTION), flush), 1000);
        assertEquals(3, msgs.size());
        assertInstanceOf(NbdClientFlags.class, msgs.get(0));
        NbdOption go = (NbdOption) msgs.get(1);
        assertEquals(NbdConstants.OPT_GO, go.option());
        go.release();
        NbdRequest request = (NbdRequest) msgs.get(2);
        assertEquals(NbdConstants.CMD_FLUSH, request.type());
        assertEquals(7, request.cookie());
        request.release();
        assertFalse(ch.finishAndReleaseAll());
    }

    // ---- client side ----

    @Test
    void clientEncodesFlagsAndOptionByteExact() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdClientHandshakeEncoder());
        ch.writeOutbound(new NbdClientFlags(3));
        ByteBuf data = NbdOptionPayloads.infoOrGo(ByteBufAllocator.DEFAULT, "disk", NbdConstants.INFO_BLOCK_SIZE);
        ch.writeOutbound(new NbdOption(NbdConstants.OPT_GO, data));
        ch.writeOutbound(new NbdOption(NbdConstants.OPT_STRUCTURED_REPLY, null));
        assertEquals(hex(bytes("00000003" + GO_OPTION + "49484156454f5054 00000008 00000000")), hex(drain(ch)));
        assertEquals(0, data.refCnt());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void clientEncoderRefusesTooBigMarker() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdClientHandshakeEncoder());
        assertThrows(EncoderException.class, () -> ch.writeOutbound(NbdOption.tooBig(NbdConstants.OPT_GO, 9)));
        assertFalse(ch.finishAndReleaseAll());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 1000})
    void clientDecodesGreetingRepliesAndStopsAfterGoAck(int piece) {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdClientHandshakeDecoder(1 << 16));
        // trailing bytes after the GO ACK belong to the transmission phase
        byte[] wire = concat(bytes(GREETING), bytes(INFO_EXPORT_REPLY), bytes(GO_ACK), bytes("67446698"));
        List<Object> msgs = feed(ch, wire, piece);
        assertEquals(3, msgs.size());
        assertEquals(new NbdServerGreeting(3), msgs.get(0));
        NbdOptionReply info = (NbdOptionReply) msgs.get(1);
        assertEquals(NbdConstants.OPT_GO, info.option());
        assertEquals(NbdConstants.REP_INFO, info.replyType());
        NbdOptionPayloads.InfoRecord rec = NbdOptionPayloads.parseInfo(info.data());
        assertEquals(NbdConstants.INFO_EXPORT, rec.type());
        assertEquals(1L << 30, rec.size());
        assertEquals(0x6d, rec.flags());
        info.release();
        NbdOptionReply ack = (NbdOptionReply) msgs.get(2);
        assertEquals(NbdConstants.REP_ACK, ack.replyType());
        assertFalse(ack.isError());
        ack.release();
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void clientDecoderHandsTransmissionBytesToTheReplyDecoder() {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.pipeline().addLast("handshake", new NbdClientHandshakeDecoder(1 << 16));
        ch.writeInbound(pooled(concat(bytes(GREETING), bytes(GO_ACK), bytes("67446698 00000000 00000000"))));
        assertInstanceOf(NbdServerGreeting.class, ch.readInbound());
        NbdOptionReply ack = ch.readInbound();
        ack.release();
        assertNull(ch.readInbound());
        // replacing the decoder later (not from inside channelRead) still passes the held bytes on
        ch.pipeline().replace("handshake", "replies", new NbdReplyDecoder(cookie -> cookie == 9 ? 0 : -1, 4096));
        ch.writeInbound(pooled(bytes("00000009")));
        NbdSimpleReply reply = ch.readInbound();
        assertEquals(9, reply.cookie());
        assertEquals(0, reply.error());
        reply.release();
        assertFalse(ch.finishAndReleaseAll());
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void clientDecodesExportNameReply(boolean noZeroes) {
        NbdClientHandshakeDecoder decoder = new NbdClientHandshakeDecoder(1 << 16);
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        ch.writeInbound(pooled(bytes(GREETING)));
        assertInstanceOf(NbdServerGreeting.class, ch.readInbound());
        decoder.expectExportNameReply(noZeroes);
        byte[] reply = bytes("0000000040000000 006d" + (noZeroes ? "" : "00".repeat(124)));
        List<Object> msgs = feed(ch, reply, 1);
        assertEquals(List.of(new NbdExportNameReply(1L << 30, 0x6d, noZeroes)), msgs);
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void exportNameRoundTripThroughBothCodecs() {
        EmbeddedChannel server = new EmbeddedChannel(new NbdServerHandshakeEncoder());
        server.writeOutbound(new NbdServerGreeting(1), new NbdExportNameReply(-1L, 0xffff, false));
        NbdClientHandshakeDecoder decoder = new NbdClientHandshakeDecoder(0);
        decoder.expectExportNameReply(false);
        EmbeddedChannel client = new EmbeddedChannel(decoder);
        List<Object> msgs = feed(client, drain(server), 13);
        assertEquals(List.of(new NbdServerGreeting(1), new NbdExportNameReply(-1L, 0xffff, false)), msgs);
        assertFalse(server.finishAndReleaseAll());
        assertFalse(client.finishAndReleaseAll());
    }

    @Test
    void optionRoundTripThroughBothCodecs() {
        EmbeddedChannel client = new EmbeddedChannel(new NbdClientHandshakeEncoder());
        client.writeOutbound(new NbdClientFlags(1), new NbdOption(NbdConstants.OPT_SET_META_CONTEXT,
                NbdOptionPayloads.metaContextQuery(ByteBufAllocator.DEFAULT, "disk", "base:allocation")));
        EmbeddedChannel server = new EmbeddedChannel(new NbdServerHandshakeDecoder(1024));
        List<Object> msgs = feed(server, drain(client), 1);
        assertEquals(new NbdClientFlags(1), msgs.get(0));
        NbdOption opt = (NbdOption) msgs.get(1);
        NbdOptionPayloads.MetaContextRequest req = NbdOptionPayloads.parseMetaContext(opt.data());
        assertEquals("disk", req.exportName());
        assertEquals(List.of("base:allocation"), req.queries());
        opt.release();
        assertFalse(client.finishAndReleaseAll());
        assertFalse(server.finishAndReleaseAll());
    }

    @Test
    void clientRejectsBadGreetings() {
        for (String bad : new String[] {
                "4e42444d41474944 49484156454f5054 0003", // NBDMAGIC wrong
                "4e42444d41474943 0000420281861253 0003", // oldstyle
                "4e42444d41474943 49484156454f5055 0003"}) { // IHAVEOPT wrong
            EmbeddedChannel ch = new EmbeddedChannel(new NbdClientHandshakeDecoder(4096));
            NbdProtocolException e = assertThrows(NbdProtocolException.class,
                    () -> ch.writeInbound(pooled(bytes(bad))));
            assertTrue(e.getMessage().contains("magic") || e.getMessage().contains("oldstyle"), e.getMessage());
            assertFalse(ch.finishAndReleaseAll());
        }
    }

    @Test
    void clientRejectsBadReplyMagicAndOverlongReplies() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdClientHandshakeDecoder(16));
        ch.writeInbound(pooled(bytes(GREETING)));
        assertInstanceOf(NbdServerGreeting.class, ch.readInbound());
        assertThrows(NbdProtocolException.class,
                () -> ch.writeInbound(pooled(bytes("0003e889045565a9 00000003 00000002 00000011"))));
        assertFalse(ch.finishAndReleaseAll());

        EmbeddedChannel ch2 = new EmbeddedChannel(new NbdClientHandshakeDecoder(16));
        ch2.writeInbound(pooled(bytes(GREETING)));
        assertInstanceOf(NbdServerGreeting.class, ch2.readInbound());
        assertThrows(NbdProtocolException.class,
                () -> ch2.writeInbound(pooled(bytes("0003e889045565aa 00000003 00000001 00000000"))));
        assertFalse(ch2.finishAndReleaseAll());
    }

    @Test
    void clientDecodesListRepliesAndErrors() {
        EmbeddedChannel server = new EmbeddedChannel(new NbdServerHandshakeEncoder());
        server.writeOutbound(new NbdServerGreeting(3),
                new NbdOptionReply(NbdConstants.OPT_LIST, NbdConstants.REP_SERVER,
                        NbdOptionPayloads.server(ByteBufAllocator.DEFAULT, "disk", "the disk")),
                new NbdOptionReply(NbdConstants.OPT_LIST, NbdConstants.REP_ACK, Unpooled.EMPTY_BUFFER),
                new NbdOptionReply(NbdConstants.OPT_GO, NbdConstants.REP_ERR_UNKNOWN,
                        NbdOptionPayloads.errorMessage(ByteBufAllocator.DEFAULT, "no such export")));
        EmbeddedChannel client = new EmbeddedChannel(new NbdClientHandshakeDecoder(1024));
        List<Object> msgs = feed(client, drain(server), 2);
        assertEquals(4, msgs.size());
        NbdOptionReply srv = (NbdOptionReply) msgs.get(1);
        assertEquals(new NbdOptionPayloads.ServerRecord("disk", "the disk"), NbdOptionPayloads.parseServer(srv.data()));
        NbdOptionReply err = (NbdOptionReply) msgs.get(3);
        assertTrue(err.isError());
        assertEquals(NbdConstants.REP_ERR_UNKNOWN, err.replyType());
        assertEquals("no such export", err.data().toString(java.nio.charset.StandardCharsets.UTF_8));
        msgs.forEach(io.netty.util.ReferenceCountUtil::release);
        assertEquals(0, srv.refCnt());
        assertEquals(0, err.refCnt());
        assertFalse(server.finishAndReleaseAll());
        assertFalse(client.finishAndReleaseAll());
    }
}
