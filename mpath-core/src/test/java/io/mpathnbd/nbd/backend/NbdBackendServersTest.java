package io.mpathnbd.nbd.backend;

import static io.mpathnbd.nbd.backend.BackendHarness.read;
import static io.mpathnbd.nbd.backend.BackendHarness.run;
import static io.mpathnbd.nbd.backend.BackendHarness.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.BackendException;
import io.mpathnbd.core.backend.BackendInfo;
import io.mpathnbd.core.backend.Capability;
import io.mpathnbd.core.backend.DriverOptions;
import io.mpathnbd.core.request.BlockFlags;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.support.BackendOutcome;
import io.mpathnbd.testing.peers.Images;
import io.mpathnbd.testing.peers.NbdServer;
import io.mpathnbd.testing.peers.Nbdkit;
import io.mpathnbd.testing.peers.QemuNbd;
import io.mpathnbd.testing.peers.Tools;
import io.netty.channel.epoll.EpollSocketChannel;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Handshake, export information and a data round trip against each real NBD server implementation. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NbdBackendServersTest {
    private static final long SIZE = 64L << 20;

    @TempDir
    Path tmp;

    private final BackendHarness harness = new BackendHarness();

    @BeforeAll
    static void tools() {
        Tools.require("nbdkit", "nbd-server", "qemu-nbd");
    }

    @AfterEach
    void tearDown() {
        harness.close();
    }

    /** Writes a pattern, reads it back, and checks the image file itself when there is one. */
    private static void roundTrip(NbdSession s, Path image) {
        byte[] data = Images.pattern(42, 256 * 1024);
        write(s, 0, 1 << 20, data).assertOk();
        assertArrayEquals(data, read(s, 1 << 20, data.length));
        if (image != null) {
            assertArrayEquals(data, Images.read(image, 1 << 20, data.length), "the data reached the disk image");
        }
    }

    @Test
    void nbdkitMemory() {
        try (Nbdkit kit = Nbdkit.builder().dir(tmp).memory(SIZE).start()) {
            NbdSession s = harness.connect(kit.uri());
            BackendInfo info = s.info();
            assertEquals(SIZE, info.size());
            int expected = Capability.FLUSH | Capability.FUA | Capability.TRIM | Capability.WRITE_ZEROES
                    | Capability.MULTI_CONN | Capability.DF | Capability.BLOCK_STATUS;
            assertEquals(expected, info.capabilities() & expected, Capability.describe(info.capabilities()));
            assertFalse(info.has(Capability.READ_ONLY));
            assertEquals(1, info.minBlockSize());
            assertEquals(4096, info.preferredBlockSize());
            assertEquals(32 << 20, info.maxPayload());
            assertNull(info.identity(), "NBD has no disk identity");
            assertEquals(4, s.connectionCount(), "CAN_MULTI_CONN: one connection per event loop");
            roundTrip(s, null);
        }
    }

    @Test
    void epollTransport() {
        try (BackendHarness epoll = new BackendHarness(true);
                Nbdkit kit = Nbdkit.builder().dir(tmp).memory(SIZE).start()) {
            NbdSession s = epoll.connect(kit.uri(), DriverOptions.defaults().withConnections(2));
            assertEquals(EpollSocketChannel.class, s.connection(0).channel().getClass());
            assertEquals(2, s.connectionCount());
            roundTrip(s, null);
        }
    }

    @Test
    void nbdkitFilePlugin() {
        Path image = Images.sparse(tmp, "disk.img", SIZE);
        try (Nbdkit kit = Nbdkit.builder().dir(tmp).file(image).start()) {
            NbdSession s = harness.connect(kit.uri(), DriverOptions.defaults().withConnections(2));
            assertEquals(SIZE, s.info().size());
            assertTrue(s.info().has(Capability.FLUSH) && s.info().has(Capability.FUA));
            assertEquals(2, s.connectionCount(), "DriverOptions.connections is honoured");
            roundTrip(s, image);
        }
    }

    @Test
    void qemuNbd() {
        Path image = Images.sparse(tmp, "disk.img", SIZE);
        // one client only: then qemu-nbd does not offer CAN_MULTI_CONN
        try (QemuNbd q = QemuNbd.builder().image(image).exportName("disk0").shared(1).dir(tmp).start()) {
            NbdSession s = harness.connect(q.uri());
            BackendInfo info = s.info();
            assertEquals(SIZE, info.size());
            assertTrue(info.has(Capability.BLOCK_STATUS), Capability.describe(info.capabilities()));
            assertTrue(info.has(Capability.DF));
            assertFalse(info.has(Capability.MULTI_CONN));
            assertEquals(1, s.connectionCount(), "no CAN_MULTI_CONN: a single connection");
            // qemu-nbd sends INFO_BLOCK_SIZE 1/4096/32M
            assertEquals(1, info.minBlockSize());
            assertEquals(4096, info.preferredBlockSize());
            assertEquals(32 << 20, info.maxPayload());
            roundTrip(s, image);
        }
    }

    @Test
    void maxPayloadIsTheSmallerOfOptionAndServer() {
        Path image = Images.sparse(tmp, "disk.img", SIZE);
        try (QemuNbd q = QemuNbd.builder().image(image).dir(tmp).start()) {
            NbdSession s = harness.connect(q.uri(), DriverOptions.defaults().withMaxPayload(1 << 20));
            assertEquals(1 << 20, s.info().maxPayload());
            BackendOutcome tooBig = run(s, BlockOp.READ, 0, 0, 2 << 20);
            assertEquals(22, tooBig.assertFailed().errno(), "a request over the maximum payload is EINVAL");
        }
    }

    @Test
    void nbdServerSimpleReplies() {
        Path image = Images.sparse(tmp, "disk.img", SIZE);
        try (NbdServer server = NbdServer.start(tmp, "disk", image)) {
            NbdSession s = harness.connect(server.uri());
            BackendInfo info = s.info();
            assertEquals(SIZE, info.size());
            assertTrue(info.has(Capability.FLUSH) && info.has(Capability.FUA) && info.has(Capability.TRIM),
                    Capability.describe(info.capabilities()));
            assertFalse(info.has(Capability.DF), "DF needs structured replies, which nbd-server lacks");
            assertFalse(info.has(Capability.BLOCK_STATUS));
            roundTrip(s, image);
            write(s, BlockFlags.FUA, 0, new byte[4096]).assertOk();
            run(s, BlockOp.FLUSH, 0, 0, 0).assertOk();
            // without base:allocation the backend answers "all data" itself
            BackendOutcome status = run(s, BlockOp.BLOCK_STATUS, 0, 0, 65536).assertOk();
            assertEquals(1, status.extents().count());
            assertEquals(65536, status.extents().length(0));
            assertEquals(0, status.extents().flags(0));
        }
    }

    @Test
    void nbdkitWithoutStructuredReplies() {
        try (Nbdkit kit = Nbdkit.builder().dir(tmp).noStructuredReplies().memory(SIZE).start()) {
            NbdSession s = harness.connect(kit.uri());
            assertFalse(s.info().has(Capability.BLOCK_STATUS));
            assertFalse(s.info().has(Capability.DF));
            roundTrip(s, null);
            // DF is dropped for a server without structured replies instead of being refused by it
            byte[] d = Images.pattern(3, 4096);
            write(s, 0, 0, d).assertOk();
            assertArrayEquals(d, run(s, BlockOp.READ, BlockFlags.DF, 0, 4096).bytes());
        }
    }

    @Test
    void unknownExportIsAConfigurationError() {
        Path image = Images.sparse(tmp, "disk.img", SIZE);
        try (NbdServer server = NbdServer.start(tmp, "disk", image);
                QemuNbd q = QemuNbd.builder().image(image).exportName("disk").dir(tmp).start()) {
            for (String uri : new String[] {server.uri("nosuch"), q.uri("nosuch")}) {
                BackendException e = harness.connectFails(uri, DriverOptions.defaults());
                assertTrue(e.isConfigurationError(), uri + ": " + e.getMessage());
                assertTrue(e.getMessage().contains("nosuch"), e.getMessage());
            }
        }
    }

    @Test
    void nothingListeningIsNotAConfigurationError() {
        int port = io.mpathnbd.testing.peers.FreePort.next();
        BackendException e = harness.connectFails("nbd://127.0.0.1:" + port + "/x", DriverOptions.defaults());
        assertFalse(e.isConfigurationError(), e.getMessage());
        assertTrue(e.getMessage().contains("cannot connect"), e.getMessage());
    }

    @Test
    void handshakeMustFinishWithinConnectTimeout() {
        try (Nbdkit kit = Nbdkit.builder().dir(tmp).memory(SIZE).start()) {
            kit.stop(); // the kernel still accepts the TCP connection, but no greeting comes
            long start = System.nanoTime();
            BackendException e = harness.connectFails(kit.uri(),
                    DriverOptions.defaults().withConnectTimeout(java.time.Duration.ofMillis(500)));
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(e.getMessage().contains("within 500 ms"), e.getMessage());
            assertTrue(tookMs < 5000, "gave up after " + tookMs + " ms");
            kit.cont();
        }
    }
}
