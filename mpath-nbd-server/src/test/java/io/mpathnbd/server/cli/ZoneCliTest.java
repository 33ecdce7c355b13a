package io.mpathnbd.server.cli;

import static io.mpathnbd.server.GatewayTestSupport.adminAddress;
import static io.mpathnbd.server.GatewayTestSupport.alias;
import static io.mpathnbd.server.GatewayTestSupport.awaitReady;
import static io.mpathnbd.server.GatewayTestSupport.awaitState;
import static io.mpathnbd.server.GatewayTestSupport.fileUri;
import static io.mpathnbd.server.GatewayTestSupport.nbdUri;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.path.PathState;
import io.mpathnbd.server.Gateway;
import io.mpathnbd.server.GatewayTestSupport;
import io.mpathnbd.server.config.GatewayConfig;
import io.mpathnbd.testing.peers.Images;
import io.mpathnbd.testing.peers.Tools;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mpath-nbd zone} and the zoned parts of {@code status} and the metrics, against a real gateway in this JVM:
 * export z0 over two paths to one emulated zoned file (8 zones of 1 MiB, zone 0 conventional), disk0 plain. nbdsh
 * writes through the NBD front end.
 */
class ZoneCliTest {
    private static final int MIB = 1 << 20;

    @TempDir
    static Path dir;
    static Gateway gateway;
    static String admin;

    @BeforeAll
    static void start() throws Exception {
        Tools.require("nbdsh", "nbdinfo");
        Path img = Images.sparse(dir, "z.img", 8 * MIB);
        String q = "?zone-size=1MiB&conventional=1";
        String z = "z0=" + fileUri(img) + q + "," + fileUri(alias(img, "z.img-b")) + q;
        String plain = "disk0=" + fileUri(Images.sparse(dir, "plain.img", 8 * MIB));
        gateway = Gateway.start(GatewayConfig.inline("127.0.0.1:0", "127.0.0.1:0", List.of(z, plain), null));
        awaitReady(gateway.export("z0"));
        awaitState(gateway.export("z0"), "p0", PathState.LIVE);
        awaitState(gateway.export("z0"), "p1", PathState.LIVE);
        awaitReady(gateway.export("disk0"));
        admin = adminAddress(gateway);
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    private static CliRun run(int exit, String... args) {
        CliRun r = CliRun.of(args);
        assertEquals(exit, r.exitCode(), r.toString());
        return r;
    }

    private static void nbdsh(String script) {
        Tools.Result r = Tools.run(Duration.ofSeconds(60), "nbdsh", "-u", nbdUri(gateway, "z0"), "-c", script);
        assertTrue(r.ok(), r.describe());
    }

    private static String report() {
        return run(0, "zone", "report", "--admin", admin, "z0").out();
    }

    @Test
    void pathAddRefusesAPathOfTheOtherZonedness() {
        Path plain = Images.sparse(dir, "late-plain.img", 8 * MIB);
        CliRun intoZoned = CliRun.of("path", "add", "--admin", admin, "z0", fileUri(plain));
        assertEquals(1, intoZoned.exitCode(), intoZoned.toString());
        assertTrue(intoZoned.err().contains("is not zoned, but export 'z0' is: an export cannot mix zoned and"
                + " non-zoned paths"), intoZoned.toString());
        assertEquals(2, gateway.export("z0").paths().size());

        Path zoned = Images.sparse(dir, "late-zoned.img", 8 * MIB);
        CliRun intoPlain = CliRun.of("path", "add", "--admin", admin, "disk0", fileUri(zoned) + "?zone-size=1MiB");
        assertEquals(1, intoPlain.exitCode(), intoPlain.toString());
        assertTrue(intoPlain.err().contains("?zone-size=1MiB is zoned but path p0 ("), intoPlain.toString());
        assertTrue(intoPlain.err().contains(") is not: an export cannot mix zoned and non-zoned paths"),
                intoPlain.toString());
        assertEquals(1, gateway.export("disk0").paths().size());
    }

    @Test
    void reportWritesAndResetLikeBlkzone() throws Exception {
        nbdsh("h.pwrite(b'\\x01' * 65536, " + 4 * MIB + ")");
        String[] lines = report().split("\n");
        assertEquals(8, lines.length, String.join("\n", lines));
        assertEquals("  start: 0x000000000, len 0x000800, cap 0x000800, wptr 0x000800 reset:0 non-seq:0, "
                + "zcond: 0(nw) [type: 1(CONVENTIONAL)]", lines[0]);
        assertEquals("  start: 0x000000800, len 0x000800, cap 0x000800, wptr 0x000000 reset:0 non-seq:0, "
                + "zcond: 1(em) [type: 2(SEQ_WRITE_REQUIRED)]", lines[1]);
        assertEquals("  start: 0x000002000, len 0x000800, cap 0x000800, wptr 0x000080 reset:0 non-seq:0, "
                + "zcond: 2(oi) [type: 2(SEQ_WRITE_REQUIRED)]", lines[4]);
        String one = run(0, "zone", "report", "--admin", admin, "-o", "8192", "-c", "1", "z0").out();
        assertEquals(lines[4] + "\n", one);

        String status = run(0, "status", "--admin", admin, "z0").out();
        assertTrue(status.contains("  zoned: model=host-managed zone-size=1MiB zones=8 open=1 max-open=unlimited"),
                status);

        CliRun reset = run(0, "zone", "reset", "--admin", admin, "-o", "8192", "z0");
        assertEquals("export z0: reset 1 zone(s) from sector 8192\n", reset.out());
        assertTrue(report().split("\n")[4].contains("wptr 0x000000 reset:0 non-seq:0, zcond: 1(em)"), report());
        Tools.Result map = Tools.run(Duration.ofSeconds(60), "nbdinfo", "--map=x-mpath:write-pointer",
                nbdUri(gateway, "z0"));
        assertTrue(map.stdout().contains(MIB + "     " + 7 * MIB + "    0") || map.stdout().matches(
                "(?s).*\\b" + MIB + "\\s+" + 7 * MIB + "\\s+0\\b.*"), map.stdout());
        // the zone is empty, so a write at its start is at the write pointer
        nbdsh("assert h.pread(4096, " + 4 * MIB + ") == bytes(4096)\nh.pwrite(b'\\x02' * 4096, " + 4 * MIB + ")");
        String metrics = GatewayTestSupport.http(gateway, "GET", "/metrics", null).body();
        assertTrue(metrics.matches("(?s).*mpath_export_zone_resets_total\\{[^}]*export=\"z0\"[^}]*\\} 1\\.0.*"),
                metrics);
    }

    @Test
    void aWriteBehindThePointerIsCountedAsRefused() throws Exception {
        nbdsh(String.join("\n",
                "import errno",
                "h.pwrite(b'\\x03' * 4096, " + 6 * MIB + ")",
                "try:",
                "    h.pwrite(b'\\x04' * 4096, " + 6 * MIB + ")",
                "    raise AssertionError('a write behind the pointer succeeded')",
                "except nbd.Error as e:",
                "    assert e.errnum == errno.EIO, e"));
        String metrics = GatewayTestSupport.http(gateway, "GET", "/metrics", null).body();
        assertTrue(metrics.matches(
                "(?s).*mpath_export_unaligned_write_refusals_total\\{[^}]*export=\"z0\"[^}]*\\} [1-9].*"), metrics);
    }

    @Test
    void badInputChangesNothing() {
        nbdsh("h.pwrite(b'\\x05' * 4096, " + 5 * MIB + ")");
        String before = report();
        assertTrue(run(2, "zone", "reset", "--admin", admin, "z0").err().contains("give -o SECTOR"));
        assertTrue(run(2, "zone", "reset", "--admin", admin, "-o", "10240", "--all", "z0").err()
                .contains("give -o SECTOR"));
        assertTrue(run(2, "zone", "reset", "--admin", admin, "-o", "10240", "-l", "100", "z0").err()
                .contains("-l 100 is not a multiple of the zone size (2048 sectors)"));
        assertTrue(run(2, "zone", "finish", "--admin", admin, "--all", "-c", "2", "z0").err()
                .contains("--all takes no -c or -l"));
        assertTrue(run(1, "zone", "reset", "--admin", admin, "-o", "10241", "z0").err()
                .contains("offset 5243392 is not a zone start (zones are 1048576 bytes)"));
        assertTrue(run(1, "zone", "reset", "--admin", admin, "-o", "10240", "-c", "9", "z0").err()
                .contains("count 9 from zone 5 is not within the 8 zones"));
        assertTrue(run(1, "zone", "reset", "--admin", admin, "-o", "0", "z0").err()
                .contains("RESET: zone 0 is conventional"), "a conventional zone cannot be reset");
        assertTrue(run(1, "zone", "report", "--admin", admin, "disk0").err().contains("export 'disk0' is not zoned"));
        assertTrue(run(1, "zone", "reset", "--admin", admin, "--all", "disk0").err()
                .contains("export 'disk0' is not zoned"));
        assertTrue(run(1, "zone", "report", "--admin", admin, "-o", "16384", "z0").err()
                .contains("is not on the disk"));
        assertEquals(before, report());
    }
}
