package io.mpathnbd.iscsi.session;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.iscsi.pdu.AsyncMessage;
import io.mpathnbd.iscsi.pdu.DataIn;
import io.mpathnbd.iscsi.pdu.DataOut;
import io.mpathnbd.iscsi.pdu.IscsiPdu;
import io.mpathnbd.iscsi.pdu.LoginRequest;
import io.mpathnbd.iscsi.pdu.LoginResponse;
import io.mpathnbd.iscsi.pdu.NopIn;
import io.mpathnbd.iscsi.pdu.NopOut;
import io.mpathnbd.iscsi.pdu.Opcodes;
import io.mpathnbd.iscsi.pdu.PduSettings;
import io.mpathnbd.iscsi.pdu.ReadyToTransfer;
import io.mpathnbd.iscsi.pdu.Reject;
import io.mpathnbd.iscsi.pdu.ScsiCommand;
import io.mpathnbd.iscsi.pdu.ScsiResponse;
import io.mpathnbd.iscsi.pdu.TextKeys;
import io.mpathnbd.iscsi.pdu.TextRequest;
import io.mpathnbd.iscsi.pdu.TextResponse;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * FAKE TARGET: hand-made target PDUs fed to the initiator's login and session handlers in an EmbeddedChannel, for
 * behaviour tgt cannot be made to show on demand: continued (C bit) login and text responses, a CmdSN window of one,
 * a target NOP-In, asynchronous events, Reject, and Data-In gathering. Everything against real tgtd is in
 * {@link IscsiConnectionTgtdTest}.
 */
class FakeTargetSessionTest {
    private static final long ISID = 0x80_1234_5678L;
    private final IscsiSessionConfig config = IscsiSessionConfig.defaults("iqn.2026-11.io.mpathnbd:fake-init",
            "iqn.2026-11.io.mpathnbd:fake", InetSocketAddress.createUnresolved("127.0.0.1", 3260), ISID);
    private final PduSettings settings = new PduSettings();
    private final CompletableFuture<IscsiConnection> login = new CompletableFuture<>();
    private EmbeddedChannel channel;
    private int statSN = 100;

    @AfterEach
    void finish() {
        if (channel != null) {
            channel.finishAndReleaseAll();
        }
    }

    private static ByteBuf text(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
    }

    private static TextKeys keys(IscsiPdu pdu) {
        return TextKeys.decode(pdu.data());
    }

    @SuppressWarnings("unchecked")
    private <T extends IscsiPdu> T sent(Class<T> type) {
        Object o = channel.readOutbound();
        assertNotNull(o, "nothing sent, expected " + type.getSimpleName());
        assertInstanceOf(type, o);
        return (T) o;
    }

    private LoginResponse loginResponse(boolean transit, boolean cont, int csg, int nsg, int tsih, int maxCmdSN,
            String keys) {
        return new LoginResponse(transit, cont, csg, nsg, 0, 0, ISID, tsih, 0, statSN++, 1, maxCmdSN, 0, 0,
                keys == null ? null : text(keys));
    }

    /** Logs in with a window of exactly one command and an operational answer split inside a pair. */
    private IscsiConnection loggedIn() throws Exception {
        channel = new EmbeddedChannel(new LoginHandler(config, settings, "fake", login));
        LoginRequest first = sent(LoginRequest.class);
        assertEquals("None", keys(first).get("AuthMethod"));
        assertEquals("Normal", keys(first).get("SessionType"));
        assertEquals(config.targetName(), keys(first).get("TargetName"));
        assertTrue(first.transit());
        first.release();
        channel.writeInbound(loginResponse(true, false, 0, 1, 0, 1, "AuthMethod=None\0TargetPortalGroupTag=3\0"));
        LoginRequest operational = sent(LoginRequest.class);
        assertEquals("No", keys(operational).get("InitialR2T"));
        assertEquals(101, operational.expStatSN());
        operational.release();
        // the answer continues inside the "FirstBurstLength" pair
        channel.writeInbound(loginResponse(false, true, 1, 0, 0, 1,
                "HeaderDigest=None\0DataDigest=None\0MaxRecvDataSegmentLength=4096\0InitialR2T=No\0First"));
        LoginRequest more = sent(LoginRequest.class);
        assertEquals(0, more.data().readableBytes());
        assertFalse(more.transit());
        more.release();
        assertFalse(login.isDone());
        channel.writeInbound(loginResponse(true, false, 1, 3, 0x2a, 1, "BurstLength=8192\0MaxBurstLength=16384\0"
                + "ImmediateData=Yes\0TargetAlias=fake-disk\0"));
        IscsiConnection c = login.getNow(null);
        assertNotNull(c, "login did not complete");
        return c;
    }

    @Test
    void continuedLoginTextIsGatheredAndNegotiatedLimitsApplyOnTheFinalResponse() throws Exception {
        IscsiConnection c = loggedIn();
        NegotiatedParameters p = c.negotiated();
        assertEquals(0x2a, p.tsih());
        assertEquals(8192, p.firstBurstLength());
        assertEquals(16384, p.maxBurstLength());
        assertFalse(p.initialR2T());
        assertEquals(4096, p.maxSendDataSegmentLength());
        assertEquals(3, p.targetPortalGroupTag());
        assertEquals("fake-disk", p.targetAlias());
        assertEquals(4096, settings.maxSendDataSegmentLength());
        assertEquals(config.maxRecvDataSegmentLength(), settings.maxRecvDataSegmentLength());
    }

    private static final class Recorder implements ScsiCallback {
        final AtomicReference<ScsiResult> result = new AtomicReference<>();
        final AtomicReference<TaskFailure> failure = new AtomicReference<>();
        int calls;

        @Override
        public void completed(ScsiResult r) {
            calls++;
            result.set(r);
        }

        @Override
        public void failed(TaskFailure f) {
            calls++;
            failure.set(f);
        }
    }

    @Test
    void commandsWaitForTheWindowAndWritesFollowImmediateUnsolicitedAndR2tData() throws Exception {
        IscsiConnection c = loggedIn();
        byte[] bytes = new byte[20000];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i * 7);
        }
        ByteBuf write = Unpooled.wrappedBuffer(bytes);
        Recorder w = new Recorder();
        Recorder r = new Recorder();
        c.execute(ScsiTask.write(1, new byte[] {(byte) 0x8a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 40, 0, 0}, write), w);
        c.execute(ScsiTask.read(1, new byte[] {(byte) 0x88, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0}, 4096), r);
        write.release(); // the connection holds its own slice

        // window [1, 1]: the write goes out, the read waits
        ScsiCommand cmd = sent(ScsiCommand.class);
        assertEquals(1, cmd.cmdSN());
        assertEquals(0x0001_0000_0000_0000L, cmd.lun());
        assertEquals(4096, cmd.data().readableBytes(), "immediate data limited by the target's segment length");
        assertFalse(cmd.isFinal(), "unsolicited Data-Out follows");
        assertEquals(20000, cmd.expectedDataTransferLength());
        cmd.release();
        DataOut unsolicited = sent(DataOut.class); // FirstBurstLength 8192: 4096 more
        assertEquals(4096, unsolicited.bufferOffset());
        assertEquals(Opcodes.RESERVED_TAG, unsolicited.ttt());
        assertTrue(unsolicited.isFinal());
        unsolicited.release();
        assertNull(channel.readOutbound(), "the read must wait for the window");

        channel.writeInbound(new ReadyToTransfer(cmd.lun(), cmd.itt(), 0x99, statSN, 1, 1, 0, 8192, 11808));
        int offset = 8192;
        while (offset < 20000) {
            DataOut d = sent(DataOut.class);
            assertEquals(0x99, d.ttt());
            assertEquals(offset, d.bufferOffset());
            assertArrayEquals(java.util.Arrays.copyOfRange(bytes, offset, offset + d.data().readableBytes()),
                    ByteBufUtil.getBytes(d.data()));
            offset += d.data().readableBytes();
            assertEquals(offset == 20000, d.isFinal());
            d.release();
        }
        // the write's response opens the window by one: the read goes out
        channel.writeInbound(new ScsiResponse(0, 0, 0, cmd.itt(), 0, statSN++, 2, 2, 0, 0, 0, null));
        assertEquals(1, w.calls);
        assertEquals(0, w.result.get().status());
        w.result.get().release();
        ScsiCommand read = sent(ScsiCommand.class);
        assertEquals(2, read.cmdSN());
        assertEquals(statSN, read.expStatSN());
        assertTrue(read.isRead());
        read.release();

        // two Data-In PDUs, the second with status: one result without copying
        channel.writeInbound(new DataIn(0, 0, 0, read.itt(), Opcodes.RESERVED_TAG, 0, 3, 3, 0, 0, 0,
                Unpooled.wrappedBuffer(new byte[2048]).writerIndex(2048)));
        assertEquals(0, r.calls);
        ByteBuf tail = Unpooled.buffer(2048);
        tail.writerIndex(2048);
        tail.setByte(2047, 0x5a);
        channel.writeInbound(new DataIn(Opcodes.FINAL | DataIn.FLAG_STATUS, 0, 0, read.itt(), Opcodes.RESERVED_TAG,
                statSN++, 3, 3, 1, 2048, 0, tail));
        assertEquals(1, r.calls);
        ScsiResult result = r.result.get();
        assertEquals(4096, result.data().readableBytes());
        assertEquals(0x5a, result.data().getByte(result.data().readerIndex() + 4095));
        result.release();
    }

    @Test
    void targetPingsAsyncEventsRejectsAndContinuedTextAreHandled() throws Exception {
        IscsiConnection c = loggedIn();
        SessionHandler session = channel.pipeline().get(SessionHandler.class);
        List<byte[]> attentions = new ArrayList<>();
        c.onUnitAttention(attentions::add);
        channel.runPendingTasks();

        channel.writeInbound(new NopIn(0x0001_0000_0000_0000L, Opcodes.RESERVED_TAG, 0x55, statSN, 1, 5, null));
        NopOut pong = sent(NopOut.class);
        assertEquals(0x55, pong.ttt());
        assertEquals(Opcodes.RESERVED_TAG, pong.itt());
        assertTrue(pong.immediate());
        assertEquals(0x0001_0000_0000_0000L, pong.lun());
        pong.release();

        byte[] sense = {0x70, 0, 6, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x2a, 0x06};
        ByteBuf event = Unpooled.buffer().writeShort(sense.length).writeBytes(sense);
        channel.writeInbound(new AsyncMessage(0, statSN++, 1, 5, AsyncMessage.SCSI_EVENT, 0, 0, 0, 0, event));
        assertEquals(1, attentions.size());
        assertArrayEquals(sense, attentions.get(0));

        Recorder rejected = new Recorder();
        c.execute(ScsiTask.noData(1, new byte[6]), rejected);
        ScsiCommand tur = sent(ScsiCommand.class);
        ByteBuf header = Unpooled.buffer(48);
        tur.writeBhs(header);
        tur.release();
        channel.writeInbound(new Reject(Reject.INVALID_PDU_FIELD, statSN++, 1, 5, 0, header));
        assertEquals(TaskFailure.Kind.REJECTED, rejected.failure.get().kind());

        CompletableFuture<TextKeys> answer = session.text(TextKeys.of("SendTargets", "All"));
        TextRequest ask = sent(TextRequest.class);
        assertEquals("All", keys(ask).get("SendTargets"));
        ask.release();
        channel.writeInbound(new TextResponse(false, true, 0, ask.itt(), 0x77, statSN++, 1, 5,
                text("TargetName=iqn.a\0TargetAddr")));
        TextRequest next = sent(TextRequest.class);
        assertEquals(0x77, next.ttt());
        assertEquals(0, next.data().readableBytes());
        next.release();
        channel.writeInbound(new TextResponse(true, false, 0, ask.itt(), Opcodes.RESERVED_TAG, statSN++, 1, 5,
                text("ess=10.0.0.1:3260,1\0")));
        assertEquals(List.of(new DiscoveredTarget("iqn.a", List.of("10.0.0.1:3260,1"))),
                IscsiConnection.SendTargets.parse(answer.getNow(null)));

        Recorder lost = new Recorder();
        c.execute(ScsiTask.read(1, new byte[10], 512), lost);
        sent(ScsiCommand.class).release();
        channel.writeInbound(new AsyncMessage(0, statSN++, 1, 5, AsyncMessage.SESSION_DROPPED, 0, 0, 2, 20, null));
        assertTrue(c.closeFuture().isDone());
        assertTrue(c.lossReason().contains("dropping the session"), c.lossReason());
        assertEquals(TaskFailure.Kind.CONNECTION_LOST, lost.failure.get().kind());
    }
}
