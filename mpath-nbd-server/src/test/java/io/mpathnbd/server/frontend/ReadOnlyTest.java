package io.mpathnbd.server.frontend;

import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_FLUSH;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_READ;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_TRIM;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_WRITE;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_WRITE_ZEROES;
import static io.mpathnbd.nbd.protocol.NbdConstants.TFLAG_READ_ONLY;
import static io.mpathnbd.nbd.protocol.NbdConstants.TFLAG_SEND_TRIM;
import static io.mpathnbd.nbd.protocol.NbdConstants.TFLAG_SEND_WRITE_ZEROES;
import static io.mpathnbd.server.frontend.AccessControlTest.ip;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mpathnbd.core.export.ExportConfig;
import io.mpathnbd.core.observe.ExportObserver;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.server.access.AccessRule;
import io.mpathnbd.server.access.ExportAccess;
import io.mpathnbd.server.access.Network;
import io.mpathnbd.testing.peers.Images;
import io.mpathnbd.testing.peers.Tools;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Read-only exports and read-only clients: NBD_FLAG_READ_ONLY, EPERM for every kind of write with its payload still
 * consumed, nothing written reaching a path, reads and flushes as usual.
 */
class ReadOnlyTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SIZE = 1 << 20;

    @TempDir
    java.nio.file.Path dir;

    /** The ops that reached a path of the export it watches. */
    static final class OpsSeen implements ExportObserver {
        final Set<BlockOp> ops = ConcurrentHashMap.newKeySet();

        @Override
        public void requestCompleted(Path path, BlockOp op, int bytes, long nanos, boolean failed) {
            ops.add(op);
        }
    }

    @BeforeAll
    static void tools() {
        Tools.require("nbdinfo", "nbdsh", "qemu-io");
    }

    private java.nio.file.Path patterned(String name) {
        java.nio.file.Path image = Images.sparse(dir, name, SIZE);
        Images.write(image, 0, Images.pattern(42, SIZE));
        return image;
    }

    @Test
    void aReadOnlyExportRefusesEveryWriteWithEpermAndKeepsTheDisk() throws Exception {
        java.nio.file.Path image = patterned("ro.img");
        OpsSeen seen = new OpsSeen();
        try (FrontendFixture fx = new FrontendFixture()) {
            fx.export(ExportConfig.defaults("ro"), seen, "file:" + image);
            fx.access("ro", new ExportAccess(true, List.of())).start();

            JsonNode info = JSON.readTree(Tools.run(TIMEOUT, "nbdinfo", "--json", fx.uri("ro")).assertOk().stdout());
            JsonNode e = info.get("exports").get(0);
            assertTrue(e.get("is_read_only").asBoolean(), e.toString());
            assertFalse(e.get("can_trim").asBoolean(), e.toString());
            assertFalse(e.get("can_zero").asBoolean(), e.toString());
            assertTrue(e.get("can_flush").asBoolean(), e.toString());

            // libnbd would refuse locally; without strict mode the writes reach the gateway, which says EPERM
            Nbdsh.check(fx.uri("ro"), String.join("\n",
                    "h.set_strict_mode(0)",
                    "h.connect_uri(uri)",
                    "expect_errno(errno.EPERM, h.pwrite, b'x' * 65536, 0)",
                    "expect_errno(errno.EPERM, h.zero, 4096, 8192)",
                    "expect_errno(errno.EPERM, h.trim, 4096, 0)",
                    "try:",
                    "    h.pwrite(b'y' * 512, 0)",
                    "except nbd.Error as e:",
                    "    assert 'Operation not permitted' in str(e), str(e)",
                    "h.flush()",
                    "assert len(h.pread(65536, 0)) == 65536",
                    "h.shutdown()"));

            // qemu honours the flag: read-write opening is refused, read-only works
            Tools.Result rw = Tools.run(TIMEOUT, "qemu-io", "-f", "raw", "-c", "write -P 0x11 0 4k", fx.uri("ro"));
            assertFalse(rw.ok(), rw.describe());
            assertTrue(rw.stderr().contains("Permission denied") || rw.stderr().contains("read-only"), rw.describe());
            Tools.run(TIMEOUT, "qemu-io", "-f", "raw", "-r", "-c", "read 0 64k", fx.uri("ro")).assertOk();

            // a raw WRITE: answered EPERM, its payload read and dropped, so the next request is understood
            try (RawNbdClient c = RawNbdClient.attach(fx.address(), "ro", false, false)) {
                assertEquals(TFLAG_READ_ONLY, c.transmissionFlags() & TFLAG_READ_ONLY);
                assertEquals(0, c.transmissionFlags() & (TFLAG_SEND_TRIM | TFLAG_SEND_WRITE_ZEROES));
                c.sendRequest(0, CMD_WRITE, 1, 0, 128 << 10, new byte[128 << 10]);
                c.sendRequest(0, CMD_WRITE_ZEROES, 2, 0, 4096, null); // not advertised, still a write: EPERM
                c.sendRequest(0, CMD_WRITE, 4, SIZE, 4096, new byte[4096]); // past the end: ENOSPC as ever
                c.sendRequest(0, CMD_READ, 3, 0, 4096, null);
                assertEquals(Errno.EPERM, c.readReply(0).error());
                assertEquals(Errno.EPERM, c.readReply(0).error());
                assertEquals(Errno.ENOSPC, c.readReply(0).error());
                RawNbdClient.Reply read = c.readReply(4096);
                assertEquals(3, read.cookie());
                assertEquals(0, read.error());
                assertArrayEquals(Images.pattern(42, 4096), read.data());
            }
        }
        assertArrayEquals(Images.pattern(42, SIZE), Images.read(image, 0, SIZE), "the disk is unchanged");
        assertFalse(seen.ops.contains(BlockOp.WRITE) || seen.ops.contains(BlockOp.WRITE_ZEROES)
                || seen.ops.contains(BlockOp.TRIM), "no write reached a path: " + seen.ops);
        assertTrue(seen.ops.contains(BlockOp.READ) && seen.ops.contains(BlockOp.FLUSH), seen.ops.toString());
    }

    @Test
    void aReadOnlyEntryMakesOnlyItsClientsReadOnly() throws Exception {
        java.nio.file.Path image = patterned("shared.img");
        try (FrontendFixture fx = new FrontendFixture()) {
            fx.export(ExportConfig.defaults("shared"), "file:" + image);
            fx.access("shared", new ExportAccess(false, List.of(
                    new AccessRule(Optional.of(Network.parse("127.0.0.3")), Optional.empty(), true),
                    new AccessRule(Optional.of(Network.parse("127.0.0.0/8")), Optional.empty(), false))));
            fx.start();
            try (RawNbdClient reader = RawNbdClient.attachFrom(fx.address(), ip("127.0.0.3"), "shared");
                    RawNbdClient writer = RawNbdClient.attachFrom(fx.address(), ip("127.0.0.2"), "shared")) {
                assertEquals(TFLAG_READ_ONLY, reader.transmissionFlags() & TFLAG_READ_ONLY);
                assertEquals(0, writer.transmissionFlags() & TFLAG_READ_ONLY);
                byte[] data = Images.pattern(7, 4096);
                reader.sendRequest(0, CMD_WRITE, 1, 0, 4096, data);
                assertEquals(Errno.EPERM, reader.readReply(0).error());
                reader.sendRequest(0, CMD_TRIM, 2, 0, 4096, null);
                assertEquals(Errno.EPERM, reader.readReply(0).error());

                writer.sendRequest(0, CMD_WRITE, 3, 0, 4096, data);
                assertEquals(0, writer.readReply(0).error());
                writer.sendRequest(0, CMD_FLUSH, 4, 0, 0, null);
                assertEquals(0, writer.readReply(0).error());
                reader.sendRequest(0, CMD_READ, 5, 0, 4096, null);
                RawNbdClient.Reply r = reader.readReply(4096);
                assertEquals(0, r.error());
                assertArrayEquals(data, r.data(), "the reader sees the writer's data");
            }
            assertArrayEquals(Images.pattern(7, 4096), Images.read(image, 0, 4096));
            // and 127.0.0.1 (the real tools) matches the second entry: writable
            JsonNode info = JSON.readTree(Tools.run(TIMEOUT, "nbdinfo", "--json", fx.uri("shared")).assertOk()
                    .stdout());
            assertFalse(info.get("exports").get(0).get("is_read_only").asBoolean());
        }
    }
}
