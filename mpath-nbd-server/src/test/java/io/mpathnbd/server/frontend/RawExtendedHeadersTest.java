package io.mpathnbd.server.frontend;

import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_BLOCK_STATUS;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_FLAG_FUA;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_FLAG_PAYLOAD_LEN;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_FLUSH;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_READ;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_WRITE;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_WRITE_ZEROES;
import static io.mpathnbd.nbd.protocol.NbdConstants.OPT_EXPORT_NAME;
import static io.mpathnbd.nbd.protocol.NbdConstants.OPT_EXTENDED_HEADERS;
import static io.mpathnbd.nbd.protocol.NbdConstants.OPT_SET_META_CONTEXT;
import static io.mpathnbd.nbd.protocol.NbdConstants.OPT_STRUCTURED_REPLY;
import static io.mpathnbd.nbd.protocol.NbdConstants.REPLY_TYPE_BLOCK_STATUS_EXT;
import static io.mpathnbd.nbd.protocol.NbdConstants.REPLY_TYPE_NONE;
import static io.mpathnbd.nbd.protocol.NbdConstants.REPLY_TYPE_OFFSET_DATA;
import static io.mpathnbd.nbd.protocol.NbdConstants.REP_ACK;
import static io.mpathnbd.nbd.protocol.NbdConstants.REP_ERR_EXT_HEADER_REQD;
import static io.mpathnbd.nbd.protocol.NbdConstants.REP_ERR_INVALID;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.request.Errno;
import io.mpathnbd.nbd.protocol.NbdConstants;
import io.mpathnbd.testing.peers.Images;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Extended headers on raw sockets: the option rules and the malformed requests no real client sends (a payload on a
 * READ, a payload over the maximum, the wrong header style), with the answer and the connection state the spec's
 * extension-ext-header text names; and a WRITE without PAYLOAD_LEN, which qemu 10 does send. Real clients are in {@link ExtendedHeadersClientsTest}.
 */
class RawExtendedHeadersTest {
    private static final int SIZE = 64 << 20;
    private static final int FLAGS = NbdConstants.CLIENT_FLAG_FIXED_NEWSTYLE | NbdConstants.CLIENT_FLAG_NO_ZEROES;
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(10);

    @TempDir
    static Path dir;
    static FrontendFixture fx;
    static Path image;

    @BeforeAll
    static void start() throws Exception {
        image = Images.sparse(dir, "disk.img", SIZE);
        fx = new FrontendFixture();
        fx.fileExport("disk", image);
        fx.start();
    }

    @AfterAll
    static void stop() {
        if (fx != null) {
            fx.close();
        }
    }

    @Test
    void optionRules() throws Exception {
        try (RawNbdClient c = RawNbdClient.handshake(fx.address(), FLAGS)) {
            c.sendOption(OPT_EXTENDED_HEADERS, new byte[] {1});
            assertEquals(REP_ERR_INVALID, c.readOptionReply().type(), "no data allowed");
            c.sendOption(OPT_EXTENDED_HEADERS, new byte[0]);
            assertEquals(REP_ACK, c.readOptionReply().type());
            c.sendOption(OPT_EXTENDED_HEADERS, new byte[0]);
            assertEquals(REP_ERR_INVALID, c.readOptionReply().type(), "already negotiated");
            c.sendOption(OPT_STRUCTURED_REPLY, new byte[0]);
            assertEquals(REP_ERR_EXT_HEADER_REQD, c.readOptionReply().type(), "no downgrade");
            // structured replies are implied: SET_META_CONTEXT is allowed without STRUCTURED_REPLY
            c.sendOption(OPT_SET_META_CONTEXT, RawNbdClient.metaContextData("disk", "base:allocation"));
            List<RawNbdClient.OptionReply> replies = c.readFinalReplies();
            assertEquals(NbdConstants.REP_META_CONTEXT, replies.get(0).type());
            assertEquals(REP_ACK, replies.get(replies.size() - 1).type());
        }
    }

    @Test
    void exportNameAfterExtendedHeadersEndsTheSession() throws Exception {
        try (RawNbdClient c = RawNbdClient.handshake(fx.address(), FLAGS)) {
            c.sendOption(OPT_EXTENDED_HEADERS, new byte[0]);
            assertEquals(REP_ACK, c.readOptionReply().type());
            c.sendOption(OPT_EXPORT_NAME, "disk".getBytes(StandardCharsets.UTF_8));
            assertTrue(c.closedByServer(CLOSE_WAIT));
        }
        assertTrue(fx.observer.protocolErrors.contains("export-name-after-extended-headers"));
    }

    @Test
    void everyReplyIsAnExtendedChunkThatEchoesTheOffset() throws Exception {
        byte[] data = Images.pattern(11, 8192);
        try (RawNbdClient c = RawNbdClient.attachExtended(fx.address(), "disk", true)) {
            c.sendExtendedRequest(CMD_FLAG_PAYLOAD_LEN | CMD_FLAG_FUA, CMD_WRITE, 1, 1 << 20, data.length, data);
            RawNbdClient.ExtReply w = c.readExtendedReply();
            assertEquals(List.of(1L, (long) (1 << 20), REPLY_TYPE_NONE, true), List.of(w.cookie(), w.offset(), w.type(),
                    w.done()), "a plain success is a NONE chunk, never a simple reply");
            c.sendExtendedRequest(0, CMD_READ, 2, 1 << 20, data.length, null);
            RawNbdClient.ExtReply r = c.readExtendedReply();
            assertEquals(REPLY_TYPE_OFFSET_DATA, r.type());
            assertEquals(1 << 20, r.offset());
            assertEquals(1 << 20, ByteBuffer.wrap(r.data()).getLong());
            assertArrayEquals(data, Arrays.copyOfRange(r.data(), 8, r.data().length));
            c.sendExtendedRequest(0, CMD_FLUSH, 3, 0, 0, null);
            assertEquals(REPLY_TYPE_NONE, c.readExtendedReply().type());
            // a 64-bit block status hint over the whole export: BLOCK_STATUS_EXT, descriptor count filled in
            c.sendExtendedRequest(0, CMD_BLOCK_STATUS, 4, 0, 1L << 40, null);
            RawNbdClient.ExtReply s = c.readExtendedReply();
            assertEquals(Errno.EINVAL, s.error(), "a status range past the end is EINVAL, as for compact clients");
            c.sendExtendedRequest(0, CMD_BLOCK_STATUS, 5, 0, SIZE, null);
            s = c.readExtendedReply();
            assertEquals(REPLY_TYPE_BLOCK_STATUS_EXT, s.type());
            ByteBuffer b = ByteBuffer.wrap(s.data());
            b.getInt(); // context id
            int count = b.getInt();
            assertEquals(count * 16 + 8, s.data().length);
            long sum = 0;
            for (int i = 0; i < count; i++) {
                sum += b.getLong();
                assertEquals(0, b.getInt(), "padding");
                b.getInt();
            }
            assertEquals(SIZE, sum);
        }
        assertArrayEquals(data, Images.read(image, 1 << 20, data.length));
    }

    @Test
    void aWriteWithoutPayloadLenIsTakenWithItsPayloadAsQemuDoes() throws Exception {
        // the spec says the client MUST set PAYLOAD_LEN on writes; qemu 10 does not, and qemu's server proceeds
        byte[] data = Images.pattern(12, 4096);
        try (RawNbdClient c = RawNbdClient.attachExtended(fx.address(), "disk", false)) {
            c.sendExtendedRequest(0, CMD_WRITE, 1, 2 << 20, data.length, data);
            RawNbdClient.ExtReply w = c.readExtendedReply();
            assertEquals(REPLY_TYPE_NONE, w.type());
            assertEquals(2 << 20, w.offset());
            c.sendExtendedRequest(0, CMD_READ, 2, 2 << 20, data.length, null);
            RawNbdClient.ExtReply r = c.readExtendedReply();
            assertEquals(REPLY_TYPE_OFFSET_DATA, r.type());
            assertArrayEquals(data, Arrays.copyOfRange(r.data(), 8, r.data().length));
        }
    }

    @Test
    void aPayloadOnACommandThatTakesNoneIsConsumedAndEinval() throws Exception {
        try (RawNbdClient c = RawNbdClient.attachExtended(fx.address(), "disk", false)) {
            // a READ and a WRITE_ZEROES with payloads; were they not consumed, their bytes would be read as headers
            byte[] junk = new byte[32];
            Arrays.fill(junk, (byte) 0x21);
            c.write(concat(RawNbdClient.extendedRequestBytes(CMD_FLAG_PAYLOAD_LEN, CMD_READ, 1, 0, junk.length, junk),
                    RawNbdClient.extendedRequestBytes(CMD_FLAG_PAYLOAD_LEN, CMD_WRITE_ZEROES, 2, 0, 3,
                            new byte[] {1, 2, 3}),
                    RawNbdClient.extendedRequestBytes(0, CMD_FLUSH, 3, 0, 0, null)));
            for (long cookie = 1; cookie <= 2; cookie++) {
                RawNbdClient.ExtReply e = c.readExtendedReply();
                assertEquals(cookie, e.cookie());
                assertEquals(Errno.EINVAL, e.error());
            }
            assertEquals(REPLY_TYPE_NONE, c.readExtendedReply().type(), "the FLUSH behind them");
        }
    }

    @Test
    void aPayloadOverTheMaximumDisconnectsCleanly() throws Exception {
        int max = FrontendLimits.defaults().maxPayload();
        try (RawNbdClient c = RawNbdClient.attachExtended(fx.address(), "disk", false)) {
            // a READ in flight, then a WRITE announcing more than the maximum: the READ is still answered
            c.write(concat(RawNbdClient.extendedRequestBytes(0, CMD_READ, 1, 0, 4096, null),
                    RawNbdClient.extendedRequestBytes(CMD_FLAG_PAYLOAD_LEN, CMD_WRITE, 2, 0, max + 1L, null)));
            RawNbdClient.ExtReply r = c.readExtendedReply();
            assertEquals(1, r.cookie());
            assertEquals(REPLY_TYPE_OFFSET_DATA, r.type());
            assertTrue(r.done());
            assertTrue(c.closedByServer(CLOSE_WAIT), "the spec: the server should disconnect");
        }
        assertTrue(fx.observer.protocolErrors.contains("malformed-input"));
    }

    @Test
    void aCompactHeaderAfterNegotiationDisconnectsCleanly() throws Exception {
        try (RawNbdClient c = RawNbdClient.attachExtended(fx.address(), "disk", false)) {
            c.write(concat(RawNbdClient.extendedRequestBytes(0, CMD_READ, 1, 4096, 512, null),
                    RawNbdClient.requestBytes(0, CMD_READ, 2, 0, 512, null)));
            RawNbdClient.ExtReply r = c.readExtendedReply();
            assertEquals(1, r.cookie());
            assertTrue(c.closedByServer(CLOSE_WAIT));
        }
    }

    @Test
    void anExtendedHeaderWithoutNegotiationDisconnects() throws Exception {
        try (RawNbdClient c = RawNbdClient.attach(fx.address(), "disk", true, false)) {
            c.sendExtendedRequest(0, CMD_READ, 1, 0, 512, null);
            assertTrue(c.closedByServer(CLOSE_WAIT));
        }
    }

    @Test
    void lengthsBeyondWhatTheGatewayCarriesAreRefusedNotTruncated() throws Exception {
        try (RawNbdClient c = RawNbdClient.attachExtended(fx.address(), "disk", false)) {
            // READ over the maximum payload, READ of 2^63 (negative as a long): EINVAL; a 4 GiB WRITE_ZEROES is
            // taken (done in pieces) but lies past the end of this 64 MiB export: ENOSPC
            long[][] requests = {{CMD_READ, 33 << 20, Errno.EINVAL}, {CMD_READ, Long.MIN_VALUE, Errno.EINVAL},
                {CMD_WRITE_ZEROES, 1L << 32, Errno.ENOSPC}};
            long cookie = 1;
            for (long[] q : requests) {
                c.sendExtendedRequest(0, (int) q[0], cookie, 0, q[1], null);
                RawNbdClient.ExtReply e = c.readExtendedReply();
                assertEquals(cookie, e.cookie());
                assertEquals(q[2], e.error(), "request " + cookie);
                cookie++;
            }
            c.sendExtendedRequest(0, CMD_FLUSH, cookie, 0, 0, null);
            assertEquals(REPLY_TYPE_NONE, c.readExtendedReply().type());
        }
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        ByteBuffer b = ByteBuffer.allocate(n);
        for (byte[] p : parts) {
            b.put(p);
        }
        return b.array();
    }

}
