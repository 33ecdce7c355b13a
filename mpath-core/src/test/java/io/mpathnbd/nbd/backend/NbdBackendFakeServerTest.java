package io.mpathnbd.nbd.backend;

import static io.mpathnbd.nbd.backend.BackendHarness.read;
import static io.mpathnbd.nbd.backend.BackendHarness.run;
import static io.mpathnbd.nbd.backend.BackendHarness.submit;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.BackendException;
import io.mpathnbd.core.backend.DriverOptions;
import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.backend.FailureKind;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.core.support.BackendCalls.Recorder;
import io.mpathnbd.testing.peers.Images;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Server misbehaviour and old dialects that no real server on this machine produces on demand, played by
 * {@link FakeNbdServer}: each must end in the documented outcome, never in a hang or a leak.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NbdBackendFakeServerTest {
    private static final long SIZE = 1 << 20;

    private final BackendHarness harness = new BackendHarness();

    @AfterEach
    void tearDown() {
        harness.close();
    }

    @Test
    void aServerThatAcksExtendedHeadersThenRefusesGoIsNotAskedForExportName() throws Exception {
        try (FakeNbdServer fake = new FakeNbdServer(FakeNbdServer.Handshake.EXTENDED_THEN_NO_GO, SIZE, w -> {
            throw new IOException("the client must not reach transmission");
        })) {
            BackendException e = harness.connectFails(fake.uri(), DriverOptions.defaults());
            assertTrue(e.getMessage().contains("EXPORT_NAME may not follow extended headers"), e.getMessage());
        }
    }

    @Test
    void overlappingReadChunksAreAProtocolErrorThatEndsTheSession() throws Exception {
        try (FakeNbdServer fake = new FakeNbdServer(FakeNbdServer.Handshake.NORMAL, SIZE, w -> {
            FakeNbdServer.Request r = w.readRequest();
            w.dataChunk(r.cookie(), false, 0, new byte[4096]);
            w.dataChunk(r.cookie(), true, 2048, new byte[4096]);
            w.awaitClose();
        })) {
            NbdSession s = harness.connect(fake.uri());
            Failure f = run(s, BlockOp.READ, 0, 0, 8192).assertFailed();
            assertEquals(FailureKind.PATH, f.kind(), f.toString());
            s.closeFuture().get(10, TimeUnit.SECONDS);
            assertTrue(s.lossReason().contains("protocol error"), s.lossReason());
            assertNull(fake.done().get(10, TimeUnit.SECONDS), "the fake saw the connection closed");
        }
    }

    @Test
    void aReplyForAnUnknownCookieEndsTheSession() throws Exception {
        try (FakeNbdServer fake = new FakeNbdServer(FakeNbdServer.Handshake.NORMAL, SIZE, w -> {
            FakeNbdServer.Request r = w.readRequest();
            w.simpleReply(r.cookie() + 12345, 0, null);
            w.awaitClose();
        })) {
            NbdSession s = harness.connect(fake.uri());
            Failure f = run(s, BlockOp.FLUSH, 0, 0, 0).assertFailed();
            assertEquals(FailureKind.PATH, f.kind(), f.toString());
            s.closeFuture().get(10, TimeUnit.SECONDS);
            assertTrue(s.lossReason().contains("protocol error"), s.lossReason());
        }
    }

    @Test
    void anErrorAfterDataChunksFailsTheReadButKeepsTheSession() throws Exception {
        byte[] good = Images.pattern(4, 4096);
        try (FakeNbdServer fake = new FakeNbdServer(FakeNbdServer.Handshake.NORMAL, SIZE, w -> {
            FakeNbdServer.Request r = w.readRequest();
            w.dataChunk(r.cookie(), false, 0, new byte[4096]);
            w.errorChunk(r.cookie(), true, Errno.EIO, "medium error");
            FakeNbdServer.Request r2 = w.readRequest();
            w.dataChunk(r2.cookie(), false, 4096, new byte[4096]);
            w.errorChunk(r2.cookie(), true, Errno.EINVAL, "bad range");
            FakeNbdServer.Request r3 = w.readRequest();
            w.dataChunk(r3.cookie(), true, 0, good);
            w.awaitClose();
        })) {
            NbdSession s = harness.connect(fake.uri());
            Failure eio = run(s, BlockOp.READ, 0, 0, 8192).assertFailed();
            assertEquals(FailureKind.PATH, eio.kind());
            assertEquals(Errno.EIO, eio.errno());
            assertTrue(eio.message().contains("medium error"), eio.message());
            Failure einval = run(s, BlockOp.READ, 0, 0, 8192).assertFailed();
            assertEquals(FailureKind.TARGET, einval.kind());
            assertEquals(Errno.EINVAL, einval.errno());
            assertArrayEquals(good, read(s, 0, 4096));
            assertNull(s.lossReason());
        }
    }

    @Test
    void aServerWithoutGoIsServedThroughExportName() throws Exception {
        byte[] data = Images.pattern(8, 512);
        try (FakeNbdServer fake = new FakeNbdServer(FakeNbdServer.Handshake.NO_GO, SIZE, w -> {
            FakeNbdServer.Request r = w.readRequest();
            w.simpleReply(r.cookie(), 0, data);
            w.awaitClose();
        })) {
            NbdSession s = harness.connect(fake.uri());
            assertEquals(SIZE, s.info().size());
            assertArrayEquals(data, read(s, 0, 512));
        }
    }

    @Test
    void aServerWithoutFixedNewstyleIsRefused() throws Exception {
        try (FakeNbdServer fake = new FakeNbdServer(FakeNbdServer.Handshake.NOT_FIXED_NEWSTYLE, SIZE, w -> {
        })) {
            BackendException e = harness.connectFails(fake.uri(), DriverOptions.defaults());
            assertTrue(e.isConfigurationError(), e.getMessage());
            assertTrue(e.getMessage().contains("fixed newstyle"), e.getMessage());
        }
    }

    @Test
    void requestsQueuedBehindAProtocolErrorAllFail() throws Exception {
        try (FakeNbdServer fake = new FakeNbdServer(FakeNbdServer.Handshake.NORMAL, SIZE, w -> {
            FakeNbdServer.Request first = w.readRequest();
            w.readRequest();
            w.readRequest();
            // a chunk type the client cannot skip
            w.out.writeInt(io.mpathnbd.nbd.protocol.NbdConstants.STRUCTURED_REPLY_MAGIC);
            w.out.writeShort(1);
            w.out.writeShort(77);
            w.out.writeLong(first.cookie());
            w.out.writeInt(0);
            w.out.flush();
            w.awaitClose();
        })) {
            NbdSession s = harness.connect(fake.uri(), DriverOptions.defaults().withConnections(1));
            Recorder a = submit(s, BlockOp.READ, 0, 0, 512, null);
            Recorder b = submit(s, BlockOp.READ, 0, 512, 512, null);
            Recorder c = submit(s, BlockOp.FLUSH, 0, 0, 0, null);
            for (Recorder r : new Recorder[] {a, b, c}) {
                assertEquals(FailureKind.PATH, r.await().assertFailed().kind());
            }
            s.closeFuture().get(10, TimeUnit.SECONDS);
            assertFalse(s.lossReason().isEmpty());
        }
    }
}
