package io.mpathnbd.server.frontend;

import static io.mpathnbd.nbd.protocol.NbdConstants.CLIENT_FLAG_FIXED_NEWSTYLE;
import static io.mpathnbd.nbd.protocol.NbdConstants.CLIENT_FLAG_NO_ZEROES;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_BLOCK_STATUS;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_DISC;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_FLAG_REQ_ONE;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_FLUSH;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_READ;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_RESIZE;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_WRITE;
import static io.mpathnbd.nbd.protocol.NbdConstants.INFO_BLOCK_SIZE;
import static io.mpathnbd.nbd.protocol.NbdConstants.INFO_DESCRIPTION;
import static io.mpathnbd.nbd.protocol.NbdConstants.INFO_EXPORT;
import static io.mpathnbd.nbd.protocol.NbdConstants.INFO_NAME;
import static io.mpathnbd.nbd.protocol.NbdConstants.OPT_ABORT;
import static io.mpathnbd.nbd.protocol.NbdConstants.OPT_EXPORT_NAME;
import static io.mpathnbd.nbd.protocol.NbdConstants.OPT_EXTENDED_HEADERS;
import static io.mpathnbd.nbd.protocol.NbdConstants.OPT_GO;
import static io.mpathnbd.nbd.protocol.NbdConstants.OPT_INFO;
import static io.mpathnbd.nbd.protocol.NbdConstants.OPT_LIST;
import static io.mpathnbd.nbd.protocol.NbdConstants.OPT_LIST_META_CONTEXT;
import static io.mpathnbd.nbd.protocol.NbdConstants.OPT_SET_META_CONTEXT;
import static io.mpathnbd.nbd.protocol.NbdConstants.OPT_STARTTLS;
import static io.mpathnbd.nbd.protocol.NbdConstants.OPT_STRUCTURED_REPLY;
import static io.mpathnbd.nbd.protocol.NbdConstants.REPLY_FLAG_DONE;
import static io.mpathnbd.nbd.protocol.NbdConstants.REPLY_TYPE_BLOCK_STATUS;
import static io.mpathnbd.nbd.protocol.NbdConstants.REPLY_TYPE_ERROR;
import static io.mpathnbd.nbd.protocol.NbdConstants.REPLY_TYPE_NONE;
import static io.mpathnbd.nbd.protocol.NbdConstants.REPLY_TYPE_OFFSET_DATA;
import static io.mpathnbd.nbd.protocol.NbdConstants.REP_ACK;
import static io.mpathnbd.nbd.protocol.NbdConstants.REP_ERR_INVALID;
import static io.mpathnbd.nbd.protocol.NbdConstants.REP_ERR_POLICY;
import static io.mpathnbd.nbd.protocol.NbdConstants.REP_ERR_TOO_BIG;
import static io.mpathnbd.nbd.protocol.NbdConstants.REP_ERR_UNKNOWN;
import static io.mpathnbd.nbd.protocol.NbdConstants.REP_ERR_UNSUP;
import static io.mpathnbd.nbd.protocol.NbdConstants.REP_INFO;
import static io.mpathnbd.nbd.protocol.NbdConstants.REP_META_CONTEXT;
import static io.mpathnbd.nbd.protocol.NbdConstants.REP_SERVER;
import static io.mpathnbd.nbd.protocol.NbdConstants.SIMPLE_REPLY_MAGIC;
import static io.mpathnbd.nbd.protocol.NbdConstants.TFLAG_HAS_FLAGS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.request.Errno;
import io.mpathnbd.testing.peers.Images;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The protocol byte by byte, through a hand-written socket client: what real clients do not send (bad magic,
 * truncated payloads, oversized options and writes, unknown flags), byte-exact answers (EXPORT_NAME with and without
 * zeroes), the option errors, and the handshake limits. The front end runs over a two-path file export.
 */
class RawProtocolTest {
    private static final int SIZE = 8 << 20;
    private static final int MAX_PAYLOAD = 1 << 20;
    private static final int MAX_OPTION = 4096;
    private static final int MAX_OPTIONS = 16;
    private static final FrontendLimits LIMITS = new FrontendLimits(MAX_PAYLOAD, MAX_OPTION, MAX_OPTIONS,
            Duration.ofSeconds(2), Duration.ZERO, 256, Duration.ofSeconds(2), Duration.ofSeconds(2), 0);
    private static final int BOTH_FLAGS = CLIENT_FLAG_FIXED_NEWSTYLE | CLIENT_FLAG_NO_ZEROES;

    @TempDir
    static Path dir;
    static Path image;
    static FrontendFixture fx;

    @BeforeAll
    static void start() throws Exception {
        image = Images.sparse(dir, "disk.img", SIZE);
        Path described = Images.sparse(dir, "described.img", SIZE);
        fx = new FrontendFixture();
        fx.fileExport("disk", image);
        fx.export(FrontendFixture.describedConfig("described", "A test disk"), "file:" + described);
        fx.unreadyExport("nopath", "file:" + dir.resolve("missing-dir/none.img"));
        fx.start(LIMITS);
    }

    @AfterAll
    static void stop() {
        if (fx != null) {
            fx.close();
        }
    }

    @Test
    void infoAnswersExportAndBlockSizeAlwaysNameAndDescriptionWhenAsked() throws Exception {
        try (RawNbdClient c = RawNbdClient.handshake(fx.address(), BOTH_FLAGS)) {
            c.sendOption(OPT_INFO, RawNbdClient.infoData("described", INFO_NAME, INFO_DESCRIPTION, INFO_BLOCK_SIZE));
            List<RawNbdClient.OptionReply> replies = c.readFinalReplies();
            assertEquals(REP_ACK, replies.get(replies.size() - 1).type());
            List<Integer> types = infoTypes(replies);
            assertTrue(types.containsAll(List.of(INFO_EXPORT, INFO_NAME, INFO_DESCRIPTION, INFO_BLOCK_SIZE)),
                    types.toString());
            for (RawNbdClient.OptionReply r : replies) {
                ByteBuffer b = ByteBuffer.wrap(r.data());
                if (r.type() != REP_INFO) {
                    continue;
                }
                int type = b.getShort();
                if (type == INFO_EXPORT) {
                    assertEquals(12, r.data().length);
                    assertEquals(SIZE, b.getLong());
                    assertEquals(TFLAG_HAS_FLAGS, b.getShort() & TFLAG_HAS_FLAGS);
                } else if (type == INFO_NAME) {
                    assertEquals("described", new String(r.data(), 2, r.data().length - 2, StandardCharsets.UTF_8));
                } else if (type == INFO_DESCRIPTION) {
                    assertEquals("A test disk", new String(r.data(), 2, r.data().length - 2, StandardCharsets.UTF_8));
                } else if (type == INFO_BLOCK_SIZE) {
                    assertEquals(14, r.data().length);
                    int min = b.getInt();
                    int preferred = b.getInt();
                    int max = b.getInt();
                    assertEquals(1, Integer.bitCount(min));
                    assertEquals(1, Integer.bitCount(preferred));
                    assertTrue(preferred >= Math.max(min, 512));
                    assertTrue(max <= MAX_PAYLOAD && max >= preferred && max % min == 0, "max " + max);
                }
            }
            // without requests: EXPORT, and BLOCK_SIZE because the maximum is not the default
            c.sendOption(OPT_INFO, RawNbdClient.infoData("described"));
            assertEquals(List.of(INFO_EXPORT, INFO_BLOCK_SIZE), infoTypes(c.readFinalReplies()));
        }
    }

    @Test
    void optionErrorsCarryAMessageAndTheHandshakeGoesOn() throws Exception {
        try (RawNbdClient c = RawNbdClient.handshake(fx.address(), BOTH_FLAGS)) {
            expectError(c, OPT_LIST, new byte[] {1}, REP_ERR_INVALID);
            expectError(c, OPT_STARTTLS, new byte[0], REP_ERR_POLICY);
            expectError(c, OPT_EXTENDED_HEADERS, new byte[] {1}, REP_ERR_INVALID);
            expectError(c, 99, new byte[] {1, 2, 3}, REP_ERR_UNSUP);
            expectError(c, OPT_INFO, RawNbdClient.infoData("nosuch"), REP_ERR_UNKNOWN);
            RawNbdClient.OptionReply notReady = expectError(c, OPT_GO, RawNbdClient.infoData("nopath"),
                    REP_ERR_UNKNOWN);
            assertTrue(notReady.text().contains("no usable path"), notReady.text());
            expectError(c, OPT_INFO, new byte[] {0, 0, 0}, REP_ERR_INVALID);
            expectError(c, OPT_SET_META_CONTEXT, RawNbdClient.metaContextData("disk", "base:allocation"),
                    REP_ERR_INVALID);
            expectError(c, OPT_STRUCTURED_REPLY, new byte[] {0}, REP_ERR_INVALID);
            c.sendOption(OPT_STRUCTURED_REPLY, new byte[0]);
            assertEquals(REP_ACK, c.readOptionReply().type());
            expectError(c, OPT_STRUCTURED_REPLY, new byte[0], REP_ERR_INVALID);
            expectError(c, OPT_LIST_META_CONTEXT, RawNbdClient.metaContextData("nosuch"), REP_ERR_UNKNOWN);
            c.sendOption(OPT_GO, RawNbdClient.infoData("disk"));
            assertEquals(REP_ACK, last(c.readFinalReplies()).type());
            c.sendRequest(0, CMD_READ, 7, 0, 4096, null);
            RawNbdClient.Reply r = c.readReply(4096);
            assertEquals(REPLY_TYPE_OFFSET_DATA, r.type());
            assertEquals(REPLY_FLAG_DONE, r.flags() & REPLY_FLAG_DONE);
            assertEquals(8 + 4096, r.data().length);
        }
    }

    @Test
    void listGivesEveryExportThenAck() throws Exception {
        try (RawNbdClient c = RawNbdClient.handshake(fx.address(), BOTH_FLAGS)) {
            c.sendOption(OPT_LIST, new byte[0]);
            List<RawNbdClient.OptionReply> replies = c.readFinalReplies();
            assertEquals(REP_ACK, last(replies).type());
            List<String> names = new ArrayList<>();
            for (RawNbdClient.OptionReply r : replies.subList(0, replies.size() - 1)) {
                assertEquals(REP_SERVER, r.type());
                ByteBuffer b = ByteBuffer.wrap(r.data());
                int n = b.getInt();
                String name = new String(r.data(), 4, n, StandardCharsets.UTF_8);
                names.add(name);
                if (name.equals("described")) {
                    assertEquals("A test disk", new String(r.data(), 4 + n, r.data().length - 4 - n,
                            StandardCharsets.UTF_8));
                }
            }
            assertEquals(List.of("disk", "described", "nopath"), names);
        }
    }

    @Test
    void metaContextsListSelectAndAnswerBlockStatus() throws Exception {
        try (RawNbdClient c = RawNbdClient.handshake(fx.address(), BOTH_FLAGS)) {
            c.sendOption(OPT_STRUCTURED_REPLY, new byte[0]);
            assertEquals(REP_ACK, c.readOptionReply().type());
            assertEquals(List.of("base:allocation"), contexts(c, OPT_LIST_META_CONTEXT, "disk"));
            assertEquals(List.of("base:allocation"), contexts(c, OPT_LIST_META_CONTEXT, "disk", "base:"));
            assertEquals(List.of(), contexts(c, OPT_LIST_META_CONTEXT, "disk", "qemu:dirty-bitmap:x", "base:x"));
            assertEquals(List.of(), contexts(c, OPT_SET_META_CONTEXT, "disk", "base:", "x-other:thing"));
            c.sendOption(OPT_SET_META_CONTEXT, RawNbdClient.metaContextData("disk", "base:allocation"));
            List<RawNbdClient.OptionReply> set = c.readFinalReplies();
            assertEquals(2, set.size());
            assertEquals(REP_META_CONTEXT, set.get(0).type());
            int id = ByteBuffer.wrap(set.get(0).data()).getInt();
            assertNotEquals(0, id);
            c.sendOption(OPT_GO, RawNbdClient.infoData("disk"));
            assertEquals(REP_ACK, last(c.readFinalReplies()).type());

            c.sendRequest(0, CMD_BLOCK_STATUS, 1, 0, 1 << 20, null);
            RawNbdClient.Reply status = c.readReply(0);
            assertEquals(REPLY_TYPE_BLOCK_STATUS, status.type());
            assertEquals(REPLY_FLAG_DONE, status.flags() & REPLY_FLAG_DONE);
            ByteBuffer b = ByteBuffer.wrap(status.data());
            assertEquals(id, b.getInt());
            long covered = 0;
            int extents = 0;
            while (b.hasRemaining()) {
                int len = b.getInt();
                b.getInt();
                assertTrue(len > 0);
                assertTrue(covered < 1 << 20, "no extent may start at or past the requested end");
                covered += len;
                extents++;
            }
            assertTrue(extents >= 1);

            c.sendRequest(CMD_FLAG_REQ_ONE, CMD_BLOCK_STATUS, 2, 4096, 8192, null);
            RawNbdClient.Reply one = c.readReply(0);
            assertEquals(4 + 8, one.data().length, "REQ_ONE: exactly one extent");
            assertTrue(ByteBuffer.wrap(one.data()).getInt(4) <= 8192);
        }
    }

    @Test
    void requestsPipelinedRightBehindGoAreNotLost() throws Exception {
        byte[] pattern = Images.pattern(11, 4096);
        byte[] stored = Images.pattern(12, 4096);
        Images.write(image, 4 << 20, stored);
        try (RawNbdClient c = RawNbdClient.handshake(fx.address(), BOTH_FLAGS)) {
            ByteArrayOutputStream burst = new ByteArrayOutputStream();
            burst.write(RawNbdClient.optionBytes(OPT_GO, RawNbdClient.infoData("disk")));
            burst.write(RawNbdClient.requestBytes(0, CMD_WRITE, 1, 3 << 20, 4096, pattern));
            burst.write(RawNbdClient.requestBytes(0, CMD_READ, 2, 4 << 20, 4096, null));
            c.write(burst.toByteArray());
            assertEquals(REP_ACK, last(c.readFinalReplies()).type());
            // requests in flight together may be answered in either order (the export has two paths), so the READ
            // reads a region the WRITE does not touch, and each reply is recognised by its cookie
            byte[] readData = null;
            boolean written = false;
            for (int i = 0; i < 2; i++) {
                assertEquals(SIMPLE_REPLY_MAGIC, c.in().readInt());
                assertEquals(0, c.in().readInt(), "error of reply " + i);
                long cookie = c.in().readLong();
                if (cookie == 2 && readData == null) {
                    readData = new byte[4096];
                    c.in().readFully(readData);
                } else {
                    assertEquals(1, cookie, "reply cookies");
                    assertFalse(written, "one reply per request");
                    written = true;
                }
            }
            assertTrue(written, "the WRITE was answered");
            assertArrayEquals(stored, readData, "the READ was answered with the stored data");
        }
        assertArrayEquals(pattern, Images.read(image, 3 << 20, 4096), "the write reached the image");
    }

    @Test
    void exportNameWithoutZeroesThenTransmission() throws Exception {
        try (RawNbdClient c = RawNbdClient.handshake(fx.address(), BOTH_FLAGS)) {
            c.sendOption(OPT_EXPORT_NAME, "disk".getBytes(StandardCharsets.UTF_8));
            assertEquals(SIZE, c.in().readLong());
            assertEquals(TFLAG_HAS_FLAGS, c.in().readUnsignedShort() & TFLAG_HAS_FLAGS);
            // no padding: the very next bytes are the reply to this request
            c.sendRequest(0, CMD_READ, 5, 0, 512, null);
            RawNbdClient.Reply r = c.readReply(512);
            assertEquals(5, r.cookie());
            assertFalse(r.structured());
        }
    }

    @Test
    void exportNameWithZeroesForAnOldClientAndTheEmptyNameIsTheDefault() throws Exception {
        try (RawNbdClient c = RawNbdClient.handshake(fx.address(), CLIENT_FLAG_FIXED_NEWSTYLE)) {
            c.sendOption(OPT_EXPORT_NAME, new byte[0]);
            assertEquals(SIZE, c.in().readLong());
            c.in().readUnsignedShort();
            byte[] zeroes = new byte[124];
            c.in().readFully(zeroes);
            assertArrayEquals(new byte[124], zeroes);
            c.sendRequest(0, CMD_READ, 6, 0, 512, null);
            assertEquals(6, c.readReply(512).cookie());
        }
    }

    @Test
    void exportNameForAnUnknownOrUnreadyExportCloses() throws Exception {
        for (String name : List.of("nosuch", "nopath")) {
            try (RawNbdClient c = RawNbdClient.handshake(fx.address(), BOTH_FLAGS)) {
                c.sendOption(OPT_EXPORT_NAME, name.getBytes(StandardCharsets.UTF_8));
                assertTrue(c.closedByServer(Duration.ofSeconds(5)), name);
            }
        }
        assertTrue(fx.observer.protocolErrors.contains("unknown-export"), fx.observer.protocolErrors.toString());
        assertTrue(fx.observer.protocolErrors.contains("export-not-ready"), fx.observer.protocolErrors.toString());
    }

    @Test
    void abortIsAcknowledgedThenClosed() throws Exception {
        try (RawNbdClient c = RawNbdClient.handshake(fx.address(), BOTH_FLAGS)) {
            c.sendOption(OPT_ABORT, new byte[0]);
            RawNbdClient.OptionReply r = c.readOptionReply();
            assertEquals(OPT_ABORT, r.option());
            assertEquals(REP_ACK, r.type());
            assertTrue(c.closedByServer(Duration.ofSeconds(5)));
        }
    }

    @Test
    void unknownClientFlagsClose() throws Exception {
        for (int flags : new int[] {1 << 2, BOTH_FLAGS | (1 << 31)}) {
            try (RawNbdClient c = RawNbdClient.handshake(fx.address(), flags)) {
                assertTrue(c.closedByServer(Duration.ofSeconds(5)), "flags " + Integer.toHexString(flags));
            }
        }
        assertTrue(fx.observer.protocolErrors.contains("unknown-client-flags"));
    }

    @Test
    void tooManyOptionsClose() throws Exception {
        try (RawNbdClient c = RawNbdClient.handshake(fx.address(), BOTH_FLAGS)) {
            for (int i = 0; i < MAX_OPTIONS; i++) {
                expectError(c, 99, new byte[0], REP_ERR_UNSUP);
            }
            c.sendOption(99, new byte[0]);
            assertTrue(c.closedByServer(Duration.ofSeconds(5)));
        }
        assertTrue(fx.observer.protocolErrors.contains("too-many-options"));
    }

    @Test
    void anOversizedOptionIsTooBigAndTheNextOptionWorks() throws Exception {
        try (RawNbdClient c = RawNbdClient.handshake(fx.address(), BOTH_FLAGS)) {
            c.sendLargeOption(OPT_INFO, 300_000);
            RawNbdClient.OptionReply r = c.readOptionReply();
            assertEquals(OPT_INFO, r.option());
            assertEquals(REP_ERR_TOO_BIG, r.type());
            c.sendOption(OPT_GO, RawNbdClient.infoData("disk"));
            assertEquals(REP_ACK, last(c.readFinalReplies()).type());
            c.sendRequest(0, CMD_READ, 1, 0, 512, null);
            assertEquals(0, c.readReply(512).error());
        }
    }

    @Test
    void aSilentClientIsClosedAfterTheHandshakeTimeout() throws Exception {
        try (RawNbdClient c = RawNbdClient.connect(fx.address())) {
            c.readGreeting();
            assertTrue(c.closedByServer(Duration.ofSeconds(10)));
        }
        assertTrue(fx.observer.protocolErrors.contains("handshake-timeout"));
    }

    @Test
    void badRequestMagicClosesThatConnectionOnly() throws Exception {
        try (RawNbdClient bad = RawNbdClient.attach(fx.address(), "disk", false, false);
                RawNbdClient good = RawNbdClient.attach(fx.address(), "disk", false, false)) {
            byte[] garbage = RawNbdClient.requestBytes(0, CMD_READ, 1, 0, 512, null);
            garbage[0] = 0x12;
            bad.write(garbage);
            assertTrue(bad.closedByServer(Duration.ofSeconds(5)));
            good.sendRequest(0, CMD_READ, 2, 0, 512, null);
            RawNbdClient.Reply r = good.readReply(512);
            assertEquals(2, r.cookie());
            assertEquals(0, r.error());
        }
        assertTrue(fx.observer.protocolErrors.contains("malformed-input"));
    }

    @Test
    void aWritePayloadCutShortByTheClientLeavesNothingBehind() throws Exception {
        // earlier tests' connections may still be closing; the count must be settled before it is a baseline
        awaitConnections(0);
        int before = 0;
        byte[] pattern = Images.pattern(3, 1000);
        try (RawNbdClient c = RawNbdClient.attach(fx.address(), "disk", false, false)) {
            c.write(RawNbdClient.requestBytes(0, CMD_WRITE, 1, 5 << 20, 65536, null));
            c.write(pattern);
            c.socket().shutdownOutput();
            assertTrue(c.closedByServer(Duration.ofSeconds(5)));
        }
        awaitConnections(before);
        assertArrayEquals(new byte[1000], Images.read(image, 5 << 20, 1000), "nothing of the cut write landed");
        try (RawNbdClient c = RawNbdClient.attach(fx.address(), "disk", false, false)) {
            c.sendRequest(0, CMD_READ, 1, 0, 512, null);
            assertEquals(0, c.readReply(512).error());
        }
    }

    @Test
    void anOversizedWriteIsInvalidAndTheConnectionGoesOn() throws Exception {
        try (RawNbdClient c = RawNbdClient.attach(fx.address(), "disk", false, false)) {
            int length = 2 * MAX_PAYLOAD;
            byte[] payload = Images.pattern(5, length);
            c.sendRequest(0, CMD_WRITE, 1, 0, length, payload);
            RawNbdClient.Reply r = c.readReply(0);
            assertEquals(1, r.cookie());
            assertEquals(Errno.EINVAL, r.error());
            c.sendRequest(0, CMD_READ, 2, 0, length, null);
            assertEquals(Errno.EINVAL, c.readReply(0).error(), "a read beyond the maximum block size");
            c.sendRequest(0, CMD_READ, 3, 0, 4096, null);
            RawNbdClient.Reply read = c.readReply(4096);
            assertEquals(3, read.cookie());
            assertEquals(0, read.error());
            assertArrayEquals(new byte[4096], read.data(), "the oversized payload was not written");
        }
    }

    @Test
    void unknownCommandsAndErrorsWithStructuredReplies() throws Exception {
        try (RawNbdClient c = RawNbdClient.attach(fx.address(), "disk", true, false)) {
            c.sendRequest(0, 9, 1, 0, 512, null);
            RawNbdClient.Reply unknown = c.readReply(0);
            assertEquals(REPLY_TYPE_ERROR, unknown.type());
            assertEquals(Errno.EINVAL, unknown.error());
            c.sendRequest(0, CMD_RESIZE, 2, 0, 0, null);
            assertEquals(Errno.EINVAL, c.readReply(0).error());
            c.sendRequest(0, CMD_READ, 3, SIZE, 512, null);
            RawNbdClient.Reply pastEnd = c.readReply(0);
            assertEquals(REPLY_TYPE_ERROR, pastEnd.type());
            assertEquals(REPLY_FLAG_DONE, pastEnd.flags() & REPLY_FLAG_DONE);
            assertEquals(Errno.EINVAL, pastEnd.error());
            int messageLength = ByteBuffer.wrap(pastEnd.data()).getShort(4) & 0xffff;
            assertTrue(messageLength > 0, "an error chunk carries a message");
            assertEquals(6 + messageLength, pastEnd.data().length);
            c.sendRequest(0, CMD_WRITE, 4, SIZE - 512, 1024, new byte[1024]);
            assertEquals(Errno.ENOSPC, c.readReply(0).error());
            c.sendRequest(0, CMD_BLOCK_STATUS, 5, 0, 4096, null);
            assertEquals(Errno.EINVAL, c.readReply(0).error(), "block status without a meta context");
            c.sendRequest(0, CMD_READ, 6, 0, 512, null);
            assertEquals(REPLY_TYPE_OFFSET_DATA, c.readReply(0).type());
        }
    }

    @Test
    void zeroLengthRequestsSucceedWithoutData() throws Exception {
        try (RawNbdClient simple = RawNbdClient.attach(fx.address(), "disk", false, false)) {
            simple.sendRequest(0, CMD_READ, 1, 0, 0, null);
            RawNbdClient.Reply r = simple.readReply(0);
            assertEquals(0, r.error());
            assertEquals(0, r.data().length);
            simple.sendRequest(0, CMD_WRITE, 2, 0, 0, null);
            assertEquals(0, simple.readReply(0).error());
            simple.sendRequest(0, CMD_READ, 3, 0, 512, null);
            assertEquals(3, simple.readReply(512).cookie(), "the stream is still in step");
        }
        try (RawNbdClient structured = RawNbdClient.attach(fx.address(), "disk", true, false)) {
            structured.sendRequest(0, CMD_READ, 1, 0, 0, null);
            RawNbdClient.Reply r = structured.readReply(0);
            assertEquals(REPLY_TYPE_NONE, r.type());
            assertEquals(REPLY_FLAG_DONE, r.flags());
        }
    }

    @Test
    void discAnswersOutstandingRequestsThenCloses() throws Exception {
        byte[] pattern = Images.pattern(17, 65536);
        try (RawNbdClient c = RawNbdClient.attach(fx.address(), "disk", false, false)) {
            ByteArrayOutputStream burst = new ByteArrayOutputStream();
            burst.write(RawNbdClient.requestBytes(0, CMD_WRITE, 1, 6 << 20, 65536, pattern));
            burst.write(RawNbdClient.requestBytes(0, CMD_FLUSH, 2, 0, 0, null));
            burst.write(RawNbdClient.requestBytes(0, CMD_DISC, 3, 0, 0, null));
            c.write(burst.toByteArray());
            List<Long> cookies = new ArrayList<>();
            cookies.add(c.readReply(0).cookie());
            cookies.add(c.readReply(0).cookie());
            assertTrue(cookies.containsAll(List.of(1L, 2L)), cookies.toString());
            assertTrue(c.closedByServer(Duration.ofSeconds(5)));
        }
        assertArrayEquals(pattern, Images.read(image, 6 << 20, 65536));
    }

    private static RawNbdClient.OptionReply expectError(RawNbdClient c, int option, byte[] data, int type)
            throws Exception {
        c.sendOption(option, data);
        RawNbdClient.OptionReply r = c.readOptionReply();
        assertEquals(option, r.option());
        assertEquals(type, r.type(), () -> "option " + option + ": " + r.text());
        assertTrue(r.data().length > 0, "error replies carry a message");
        return r;
    }

    private static List<String> contexts(RawNbdClient c, int option, String export, String... queries)
            throws Exception {
        c.sendOption(option, RawNbdClient.metaContextData(export, queries));
        List<RawNbdClient.OptionReply> replies = c.readFinalReplies();
        assertEquals(REP_ACK, last(replies).type());
        List<String> names = new ArrayList<>();
        for (RawNbdClient.OptionReply r : replies.subList(0, replies.size() - 1)) {
            assertEquals(REP_META_CONTEXT, r.type());
            if (option == OPT_LIST_META_CONTEXT) {
                assertEquals(0, ByteBuffer.wrap(r.data()).getInt(), "LIST answers with id 0");
            }
            names.add(new String(r.data(), 4, r.data().length - 4, StandardCharsets.UTF_8));
        }
        return names;
    }

    private static List<Integer> infoTypes(List<RawNbdClient.OptionReply> replies) {
        List<Integer> types = new ArrayList<>();
        for (RawNbdClient.OptionReply r : replies) {
            if (r.type() == REP_INFO) {
                types.add((int) ByteBuffer.wrap(r.data()).getShort());
            }
        }
        return types;
    }

    private static RawNbdClient.OptionReply last(List<RawNbdClient.OptionReply> replies) {
        return replies.get(replies.size() - 1);
    }

    static void awaitConnections(int expected) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (fx.frontend().activeConnections() != expected && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(expected, fx.frontend().activeConnections());
    }
}
