package io.mpathnbd.server.frontend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mpathnbd.core.export.ExportConfig;
import io.mpathnbd.server.FioLoad;
import io.mpathnbd.server.LogCapture;
import io.mpathnbd.testing.peers.Images;
import io.mpathnbd.testing.peers.Nbdkit;
import io.mpathnbd.testing.peers.NewerPeers;
import io.mpathnbd.testing.peers.QemuNbd;
import io.mpathnbd.testing.peers.Tools;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real clients that negotiate extended headers with the front end, beside ones that do not: libnbd 1.22 (nbdinfo,
 * nbdsh, in the trixie image) and qemu 10 (bookworm-backports) against Debian 12's libnbd 1.14, qemu 7.2 and fio.
 */
class ExtendedHeadersClientsTest {
    private static final int SIZE = 64 << 20;
    private static final long TIB = 1L << 40;
    private static final Duration TIMEOUT = Duration.ofSeconds(180);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static FrontendFixture fx;
    static Path diskImage;
    static QemuNbd bigBackend;

    @BeforeAll
    static void start() throws Exception {
        Tools.require("nbdinfo", "qemu-io", "fio");
        NewerPeers.requireTrixie();
        NewerPeers.qemu10("qemu-io");
        diskImage = Images.sparse(dir, "disk.img", SIZE);
        // an 8 TiB sparse disk with 1 MiB of data at 4 TiB, served by qemu-nbd 10: a backend with extended headers
        Path big = Images.sparse(dir, "big.img", 8 * TIB);
        Images.write(big, 4 * TIB, Images.pattern(4, 1 << 20));
        bigBackend = QemuNbd.builder().program(NewerPeers.qemu10("qemu-nbd")).image(big).exportName("big").dir(dir)
                .start();
        fx = new FrontendFixture();
        fx.fileExport("disk", diskImage);
        fx.export(ExportConfig.defaults("big"), bigBackend.uri());
        fx.start();
    }

    @AfterAll
    static void stop() {
        if (fx != null) {
            fx.close();
        }
        if (bigBackend != null) {
            bigBackend.close();
        }
    }

    @Test
    void nbdinfo122ShowsExtendedHeadersAndNbdinfo114DoesNot() throws Exception {
        JsonNode info = JSON.readTree(NewerPeers.trixie(TIMEOUT, "nbdinfo", "--json", fx.uri("disk")).assertOk()
                .stdout());
        assertTrue(info.get("extended").asBoolean(), info.toString());
        assertTrue(info.get("structured").asBoolean());
        assertEquals(SIZE, info.get("exports").get(0).get("export-size").asLong());
        String text = NewerPeers.trixie(TIMEOUT, "nbdinfo", fx.uri("disk")).assertOk().stdout();
        assertTrue(text.contains("using extended packets"), text);
        JsonNode old = JSON.readTree(Tools.run(TIMEOUT, "nbdinfo", "--json", fx.uri("disk")).assertOk().stdout());
        assertFalse(old.path("extended").asBoolean(false), "libnbd 1.14 has no extended headers: " + old);
        assertTrue(old.get("structured").asBoolean());
    }

    @Test
    void nbdsh122ReadsWritesAndGets64BitBlockStatus() {
        String script = String.join("\n",
                "assert h.get_extended_headers_negotiated()",
                "buf = bytes(range(256)) * 256",
                "h.pwrite(buf, 5 << 20)",
                "assert h.pread(len(buf), 5 << 20) == buf",
                "h.flush()",
                "ext = []",
                "h.block_status_64(h.get_size(), 0, lambda m, o, e, err: ext.extend(e))",
                "assert sum(l for l, f in ext) == h.get_size(), ext",
                "print('ok', len(ext))");
        Tools.Result r = NewerPeers.trixie(TIMEOUT, "nbdsh", "-c", "h.add_meta_context('base:allocation')",
                "-c", "h.connect_uri('" + fx.uri("disk") + "')", "-c", script).assertOk();
        assertTrue(r.stdout().startsWith("ok"), r.describe());
    }

    @Test
    void qemuIo10ReadsAndWritesWithExtendedHeaders() {
        LogCapture log = new LogCapture();
        log.attach();
        try {
            Tools.Result r = Tools.run(TIMEOUT, NewerPeers.qemu10("qemu-io"), "-f", "raw",
                    "-c", "write -P 0xa5 1M 2M", "-c", "read -P 0xa5 1M 2M", "-c", "write -z 3M 1M",
                    "-c", "read -P 0 3M 1M", "-c", "flush", fx.uri("disk")).assertOk();
            assertFalse(r.stdout().contains("Pattern verification failed"), r.describe());
        } finally {
            log.detach();
        }
        assertTrue(log.lines().stream().anyMatch(l -> l.contains("attached to export 'disk'")
                && l.contains("extended headers: yes")), "qemu 10 negotiated extended headers");
        byte[] expected = new byte[2 << 20];
        java.util.Arrays.fill(expected, (byte) 0xa5);
        assertArrayEquals(expected, Images.read(diskImage, 1 << 20, expected.length));
    }

    @Test
    void qemuIo10ThroughTheGatewayToQemuNbd10PastFourTebibytes() {
        // extended headers on both sides, at offsets far past 32 bits; the data written at 4 TiB is still there
        Tools.Result r = Tools.run(TIMEOUT, NewerPeers.qemu10("qemu-io"), "-f", "raw",
                "-c", "read -P 0 " + (6 * TIB) + " 1M",
                "-c", "write -P 0x3c " + (7 * TIB) + " 4M", "-c", "read -P 0x3c " + (7 * TIB) + " 4M",
                "-c", "flush", fx.uri("big")).assertOk();
        assertFalse(r.stdout().contains("Pattern verification failed"), r.describe());
        Tools.Result direct = Tools.run(TIMEOUT, NewerPeers.qemu10("qemu-io"), "-f", "raw", "-r",
                "-c", "read -P 0x3c " + (7 * TIB) + " 4M", bigBackend.uri()).assertOk();
        assertFalse(direct.stdout().contains("Pattern verification failed"), direct.describe());
    }

    @Test
    void nbdsh122ZeroesSixGibibytesInOneRequest() {
        // 6 GiB from 5 TiB + 1 GiB: more than 32 bits, done by the gateway in pieces; the data around it stays
        long base = 5 * TIB;
        String script = String.join("\n",
                "assert h.get_extended_headers_negotiated()",
                "a = b'\\x5a' * 65536",
                "for off in (%d, %d, %d, %d):".formatted(base, base + (1L << 30), base + (5L << 30),
                        base + (7L << 30) - 65536),
                "    h.pwrite(a, off)",
                "h.zero(6 << 30, %d)".formatted(base + (1L << 30)),
                "z = bytes(65536)",
                "assert h.pread(65536, %d) == a".formatted(base),
                "assert h.pread(65536, %d) == z".formatted(base + (1L << 30)),
                "assert h.pread(65536, %d) == z".formatted(base + (5L << 30)),
                "assert h.pread(65536, %d) == z".formatted(base + (7L << 30) - 65536),
                "assert h.pread(65536, %d) == bytes(65536)".formatted(base + (7L << 30)),
                "h.trim(6 << 30, %d)".formatted(base + (1L << 30)),
                "print('ok')");
        Tools.Result r = NewerPeers.trixie(TIMEOUT, "nbdsh", "-u", fx.uri("big"), "-c", script).assertOk();
        assertTrue(r.stdout().startsWith("ok"), r.describe());
    }

    @Test
    void aLongZeroWhosePieceFailsGetsThatError() throws Exception {
        // nbdkit (no extended headers: the gateway's backend side is compact) failing every zero with ENOSPC
        try (Nbdkit kit = Nbdkit.builder().dir(dir).errorFor("zero", "ENOSPC", "100%", null).memory(8L << 30)
                .start()) {
            fx.export(ExportConfig.defaults("full"), kit.uri());
            String script = String.join("\n",
                    "assert h.get_extended_headers_negotiated()",
                    "try:",
                    "    h.zero(5 << 30, 1 << 30)",
                    "    raise AssertionError('the zero succeeded')",
                    "except nbd.Error as e:",
                    "    assert 'ENOSPC' in str(e), e",
                    "h.pwrite(b'x' * 4096, 0)",
                    "assert h.pread(4096, 0) == b'x' * 4096",
                    "print('ok')");
            Tools.Result r = NewerPeers.trixie(TIMEOUT, "nbdsh", "-u", fx.uri("full"), "-c", script).assertOk();
            assertTrue(r.stdout().startsWith("ok"), r.describe());
        }
    }

    @Test
    void bothHeaderStylesThroughOneExportAtOnce() throws Exception {
        // fio (libnbd 1.14, compact headers) verifies the first 16 MiB while qemu-io 10 (extended headers) writes
        // and verifies patterns in the last 16 MiB, and nbdsh 1.22 does the same in between
        try (FioLoad fio = FioLoad.start(dir, "compact", fx.uri("disk"), 16 << 20)) {
            CompletableFuture<Tools.Result> qemu = CompletableFuture.supplyAsync(() -> {
                List<String> cmd = new ArrayList<>(List.of(NewerPeers.qemu10("qemu-io"), "-f", "raw"));
                for (int i = 0; i < 32; i++) {
                    String off = (48 + (i % 16)) + "M";
                    String pattern = Integer.toString(0x10 + i);
                    cmd.addAll(List.of("-c", "write -P " + pattern + " " + off + " 1M",
                            "-c", "read -P " + pattern + " " + off + " 1M"));
                }
                cmd.add(fx.uri("disk"));
                return Tools.run(TIMEOUT, cmd.toArray(String[]::new));
            });
            String script = String.join("\n",
                    "assert h.get_extended_headers_negotiated()",
                    "for i in range(64):",
                    "    buf = bytes([i]) * 262144",
                    "    off = (32 << 20) + (i % 32) * 262144",
                    "    h.pwrite(buf, off)",
                    "    assert h.pread(len(buf), off) == buf, i",
                    "print('ok')");
            Tools.Result sh = NewerPeers.trixie(TIMEOUT, "nbdsh", "-u", fx.uri("disk"), "-c", script);
            Tools.Result q = qemu.get();
            assertTrue(fio.running(), "fio is still verifying");
            JsonNode job = fio.stop();
            sh.assertOk();
            q.assertOk();
            assertFalse(q.stdout().contains("Pattern verification failed"), q.describe());
            assertTrue(job.path("write").path("io_bytes").asLong() > 0);
        }
    }

    @Test
    void blockStatusMapOfAnEightTebibyteDiskEqualsTheBackendsOwn() {
        Tools.Result direct = NewerPeers.trixie(TIMEOUT, "nbdinfo", "--map", bigBackend.uri()).assertOk();
        Tools.Result gateway = NewerPeers.trixie(TIMEOUT, "nbdinfo", "--map", fx.uri("big")).assertOk();
        assertEquals(direct.stdout(), gateway.stdout());
        // holes around the data at 4 TiB at least (another test may have written more, far from it)
        assertTrue(direct.stdout().strip().lines().count() >= 3, direct.stdout());
        assertTrue(direct.stdout().lines().anyMatch(l -> l.strip().startsWith(Long.toString(4 * TIB) + " ")
                && l.contains("data")), direct.stdout());
    }
}
