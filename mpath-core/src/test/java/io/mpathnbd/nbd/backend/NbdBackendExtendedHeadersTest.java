package io.mpathnbd.nbd.backend;

import static io.mpathnbd.nbd.backend.BackendHarness.read;
import static io.mpathnbd.nbd.backend.BackendHarness.run;
import static io.mpathnbd.nbd.backend.BackendHarness.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.Capability;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.Extents;
import io.mpathnbd.core.support.BackendOutcome;
import io.mpathnbd.testing.peers.ContainerNbdkit;
import io.mpathnbd.testing.peers.Images;
import io.mpathnbd.testing.peers.NewerPeers;
import io.mpathnbd.testing.peers.Nbdkit;
import io.mpathnbd.testing.peers.QemuNbd;
import io.mpathnbd.testing.peers.Tools;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backend side of extended headers: negotiated with qemu-nbd 10 (64-bit block status replies, 32-byte headers
 * both ways), refused by nbdkit 1.32 and qemu-nbd 7.2 (Debian 12) and nbdkit 1.42 (Debian 13, in a container),
 * which then get what they got before.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NbdBackendExtendedHeadersTest {
    private static final long TIB = 1L << 40;

    @TempDir
    Path tmp;

    private final BackendHarness harness = new BackendHarness();

    @BeforeAll
    static void tools() {
        Tools.require("nbdkit", "qemu-nbd");
        NewerPeers.qemu10("qemu-nbd");
    }

    @AfterEach
    void tearDown() {
        harness.close();
    }

    @Test
    void qemuNbd10NegotiatesExtendedHeaders() {
        Path image = Images.sparse(tmp, "disk.img", 64L << 20);
        try (QemuNbd q = QemuNbd.builder().program(NewerPeers.qemu10("qemu-nbd")).image(image).dir(tmp).start()) {
            NbdSession s = harness.connect(q.uri());
            for (int i = 0; i < s.connectionCount(); i++) {
                Negotiated n = s.connection(i).negotiated();
                assertTrue(n.extended(), n.describe());
                assertTrue(n.structured(), n.describe());
            }
            assertTrue(s.info().has(Capability.BLOCK_STATUS));
            byte[] data = Images.pattern(7, 1 << 20);
            write(s, 0, 3 << 20, data).assertOk();
            assertArrayEquals(data, read(s, 3 << 20, data.length));
            assertArrayEquals(data, Images.read(image, 3 << 20, data.length), "the data reached the image");
            run(s, BlockOp.FLUSH, 0, 0, 0).assertOk();
            run(s, BlockOp.WRITE_ZEROES, 0, 3 << 20, 4096).assertOk();
            assertArrayEquals(new byte[4096], read(s, 3 << 20, 4096));
        }
    }

    @Test
    void blockStatusOfAnEightTebibyteSparseImageThroughExtendedReplies() {
        Path image = Images.sparse(tmp, "big.img", 8 * TIB);
        byte[] data = Images.pattern(9, 1 << 20);
        Images.write(image, 4 * TIB, data);
        try (QemuNbd q = QemuNbd.builder().program(NewerPeers.qemu10("qemu-nbd")).image(image).dir(tmp).start()) {
            NbdSession s = harness.connect(q.uri());
            assertTrue(s.connection(0).negotiated().extended());
            assertEquals(8 * TIB, s.info().size());
            int hint = Integer.MAX_VALUE & -4096;
            Extents hole = run(s, BlockOp.BLOCK_STATUS, 0, 0, hint).assertOk().extents();
            assertEquals(1, hole.count(), hole.toString());
            assertEquals(hint, hole.length(0), "cut at the request's end, never longer");
            assertEquals(Extents.HOLE | Extents.ZERO, hole.flags(0));
            BackendOutcome around = run(s, BlockOp.BLOCK_STATUS, 0, 4 * TIB - (1 << 20), 4 << 20).assertOk();
            Extents e = around.extents();
            assertEquals(3, e.count(), e.toString());
            assertEquals(1 << 20, e.length(0));
            assertEquals(Extents.HOLE | Extents.ZERO, e.flags(0));
            assertEquals(1 << 20, e.length(1));
            assertEquals(0, e.flags(1));
            assertEquals(2 << 20, e.length(2));
            assertArrayEquals(data, read(s, 4 * TIB, data.length));
        }
    }

    @Test
    void nbdkitRefusesAndTheConnectionFallsBackToStructuredReplies() {
        try (Nbdkit kit = Nbdkit.builder().dir(tmp).memory(64L << 20).start()) {
            NbdSession s = harness.connect(kit.uri());
            Negotiated n = s.connection(0).negotiated();
            assertFalse(n.extended(), n.describe());
            assertTrue(n.structured(), n.describe());
            assertTrue(s.info().has(Capability.BLOCK_STATUS));
            byte[] data = Images.pattern(5, 65536);
            write(s, 0, 8192, data).assertOk();
            assertArrayEquals(data, read(s, 8192, data.length));
            assertEquals(1, run(s, BlockOp.BLOCK_STATUS, 0, 1 << 20, 1 << 20).assertOk().extents().count());
        }
    }

    @Test
    void nbdkit142RefusesAndTheConnectionFallsBack() {
        try (ContainerNbdkit kit = ContainerNbdkit.memory(tmp, 64L << 20)) {
            NbdSession s = harness.connect(kit.uri());
            Negotiated n = s.connection(0).negotiated();
            assertFalse(n.extended(), n.describe());
            assertTrue(n.structured(), n.describe());
            byte[] data = Images.pattern(8, 65536);
            write(s, 0, 1 << 20, data).assertOk();
            assertArrayEquals(data, read(s, 1 << 20, data.length));
        }
    }

    @Test
    void qemuNbd72RefusesAndTheConnectionFallsBack() {
        Path image = Images.sparse(tmp, "disk.img", 64L << 20);
        try (QemuNbd q = QemuNbd.builder().image(image).dir(tmp).start()) {
            NbdSession s = harness.connect(q.uri());
            Negotiated n = s.connection(0).negotiated();
            assertFalse(n.extended(), n.describe());
            assertTrue(n.structured(), n.describe());
            byte[] data = Images.pattern(6, 65536);
            write(s, 0, 0, data).assertOk();
            assertArrayEquals(data, read(s, 0, data.length));
        }
    }
}
