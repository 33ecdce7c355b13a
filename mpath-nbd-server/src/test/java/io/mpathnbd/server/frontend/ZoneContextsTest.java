package io.mpathnbd.server.frontend;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.export.Export;
import io.mpathnbd.core.export.ExportConfig;
import io.mpathnbd.core.zone.ZoneAction;
import io.mpathnbd.testing.peers.Images;
import io.mpathnbd.testing.peers.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A zoned export through the NBD front end with real libnbd clients: two paths to one emulated zoned file (the
 * second through a symbolic link), 8 zones of 1 MiB, zone 0 conventional. nbdsh writes into zones; nbdinfo
 * --map reads the {@code x-mpath} contexts and {@code base:allocation}.
 */
class ZoneContextsTest {
    private static final int MIB = 1 << 20;

    @TempDir
    static Path dir;
    static FrontendFixture fx;
    static Export zoned;

    @BeforeAll
    static void start() throws Exception {
        Tools.require("nbdsh", "nbdinfo");
        Path image = Images.sparse(dir, "z.img", 8 * MIB);
        Path link = Files.createSymbolicLink(dir.resolve("z-link.img"), image);
        fx = new FrontendFixture();
        String q = "?zone-size=1MiB&conventional=1";
        zoned = fx.export(ExportConfig.defaults("z"), "file:" + image + q, "file:" + link + q);
        fx.fileExport("plain", Images.sparse(dir, "plain.img", 8 * MIB));
        fx.start();
    }

    @AfterAll
    static void stop() {
        if (fx != null) {
            fx.close();
        }
    }

    private static String map(String export, String context) {
        Tools.Result r = Tools.run(Duration.ofSeconds(60), "nbdinfo", "--map=" + context, fx.uri(export));
        assertTrue(r.ok(), r.describe());
        return r.stdout();
    }

    /** nbdinfo's line for an extent: offset, length, value (nbdinfo merges neighbours of one value). */
    private static boolean hasExtent(String map, long offset, long length, int value) {
        for (String line : map.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 3 && Long.parseLong(f[0]) == offset && Long.parseLong(f[1]) == length
                    && Integer.parseInt(f[2]) == value) {
                return true;
            }
        }
        return false;
    }

    @Test
    void writePointersMoveAndABehindWriteGetsEio() throws Exception {
        String before = map("z", "x-mpath:write-pointer");
        assertTrue(hasExtent(before, MIB, 7 * MIB, MetaContexts.UNWRITTEN), before);
        assertTrue(hasExtent(before, 0, MIB, MetaContexts.NO_WRITE_POINTER), before);
        Nbdsh.check(fx.uri("z"), String.join("\n",
                "h.connect_uri(uri)",
                "for i in range(4):",
                "    h.pwrite(bytes([i + 1]) * 65536, " + MIB + " + i * 65536)",
                "h.pwrite(b'\\x07' * 4096, " + 3 * MIB + ")",
                "expect_errno(errno.EIO, h.pwrite, b'\\x09' * 4096, " + MIB + ")",
                "expect_errno(errno.EIO, h.pwrite, b'\\x09' * 4096, " + (3 * MIB + 8192) + ")",
                "assert h.pread(65536, " + (MIB + 3 * 65536) + ") == b'\\x04' * 65536",
                "h.shutdown()"));
        String after = map("z", "x-mpath:write-pointer");
        assertTrue(hasExtent(after, MIB, 4 * 65536, MetaContexts.WRITTEN), after);
        assertTrue(hasExtent(after, MIB + 4 * 65536, 2 * MIB - 4 * 65536, MetaContexts.UNWRITTEN), after);
        assertTrue(hasExtent(after, 3 * MIB, 4096, MetaContexts.WRITTEN), after);
        String types = map("z", "x-mpath:zone-type-condition");
        assertTrue(hasExtent(types, 0, MIB, 0x10), types); // conventional, no write pointer
        assertTrue(hasExtent(types, MIB, MIB, 0x22), types); // sequential required, implicitly open
        assertTrue(hasExtent(types, 2 * MIB, MIB, 0x21), types); // empty
        String alloc = map("z", "base:allocation");
        assertTrue(hasExtent(alloc, 0, 8 * MIB, 0), alloc); // the file reports all data

        // a reset empties the zone: its pointer is back at the start and the next write goes there
        assertTrue(zoned.zoneControl().manage(ZoneAction.RESET, MIB, 1).get(10, TimeUnit.SECONDS).succeeded());
        String reset = map("z", "x-mpath:write-pointer");
        assertTrue(hasExtent(reset, MIB, 2 * MIB, MetaContexts.UNWRITTEN), reset);
        Nbdsh.check(fx.uri("z"), String.join("\n",
                "h.connect_uri(uri)",
                "assert h.pread(4096, " + MIB + ") == bytes(4096)",
                "h.pwrite(b'\\x05' * 4096, " + MIB + ")",
                "h.shutdown()"));
    }

    @Test
    void allThreeContextsInOneReply() {
        Nbdsh.check(fx.uri("z"), String.join("\n",
                "h.add_meta_context('base:allocation')",
                "h.add_meta_context('x-mpath:zone-type-condition')",
                "h.add_meta_context('x-mpath:write-pointer')",
                "h.connect_uri(uri)",
                "assert h.can_meta_context('x-mpath:write-pointer')",
                "seen = {}",
                "def cb(ctx, offset, entries, err):",
                "    seen[ctx] = entries",
                "    return 0",
                "h.block_status(" + 2 * MIB + ", " + 5 * MIB + ", cb)",
                "assert set(seen) == {'base:allocation', 'x-mpath:zone-type-condition', 'x-mpath:write-pointer'}, seen",
                "assert seen['x-mpath:zone-type-condition'][0:2] == [" + MIB + ", 0x21], seen",
                "assert seen['base:allocation'][0:2] == [" + 2 * MIB + ", 0], seen",
                "h.shutdown()"));
    }

    @Test
    void aPlainExportOffersNoZoneContexts() {
        Tools.Result ctx = Tools.run(Duration.ofSeconds(60), "nbdinfo", fx.uri("plain"));
        assertTrue(ctx.ok(), ctx.describe());
        assertFalse(ctx.stdout().contains("x-mpath"), ctx.stdout());
        Tools.Result z = Tools.run(Duration.ofSeconds(60), "nbdinfo", fx.uri("z"));
        assertTrue(z.stdout().contains("x-mpath:write-pointer") && z.stdout().contains("x-mpath:zone-type-condition"),
                z.stdout());
    }
}
