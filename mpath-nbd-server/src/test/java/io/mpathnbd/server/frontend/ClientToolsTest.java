package io.mpathnbd.server.frontend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mpathnbd.core.backend.Capability;
import io.mpathnbd.core.export.Export;
import io.mpathnbd.testing.peers.Images;
import io.mpathnbd.testing.peers.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The everyday NBD tools against the front end over two-path file exports: nbdinfo, qemu-io, qemu-img, nbdcopy. */
class ClientToolsTest {
    private static final int SIZE = 64 << 20;
    private static final Duration TIMEOUT = Duration.ofSeconds(120);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static FrontendFixture fx;
    static Export disk;
    static Path diskImage;

    @BeforeAll
    static void start() throws Exception {
        Tools.require("nbdinfo", "nbdcopy", "qemu-io", "qemu-img");
        diskImage = Images.sparse(dir, "disk.img", SIZE);
        fx = new FrontendFixture();
        disk = fx.fileExport("disk", diskImage);
        fx.export(FrontendFixture.describedConfig("described", "A test disk"),
                "file:" + Images.sparse(dir, "described.img", SIZE));
        fx.start();
    }

    @AfterAll
    static void stop() {
        if (fx != null) {
            fx.close();
        }
    }

    @Test
    void nbdinfoShowsWhatTheExportCanDo() throws Exception {
        JsonNode info = JSON.readTree(Tools.run(TIMEOUT, "nbdinfo", "--json", fx.uri("disk")).assertOk().stdout());
        assertEquals("newstyle-fixed", info.get("protocol").asText());
        assertTrue(info.get("structured").asBoolean());
        JsonNode e = info.get("exports").get(0);
        assertEquals(SIZE, e.get("export-size").asLong());
        int caps = disk.capabilities();
        assertEquals(Capability.has(caps, Capability.READ_ONLY), e.get("is_read_only").asBoolean());
        assertEquals(Capability.has(caps, Capability.FLUSH), e.get("can_flush").asBoolean());
        assertEquals(Capability.has(caps, Capability.FUA), e.get("can_fua").asBoolean());
        assertEquals(Capability.has(caps, Capability.TRIM), e.get("can_trim").asBoolean());
        assertEquals(Capability.has(caps, Capability.WRITE_ZEROES), e.get("can_zero").asBoolean());
        assertEquals(Capability.has(caps, Capability.MULTI_CONN), e.get("can_multi_conn").asBoolean());
        assertEquals(Capability.has(caps, Capability.CACHE), e.get("can_cache").asBoolean());
        assertEquals(Capability.has(caps, Capability.DF), e.get("can_df").asBoolean());
        assertEquals(List.of("base:allocation"), texts(e.get("contexts")));
        int max = e.get("block_size_maximum").asInt();
        assertTrue(max > 0 && max <= FrontendLimits.defaults().maxPayload(), "maximum " + max);
        assertTrue(e.get("block_size_preferred").asInt() >= 512);
    }

    @Test
    void nbdinfoCanAnswersFollowTheCapabilities() {
        int caps = disk.capabilities();
        Map<String, Integer> names = Map.of("flush", Capability.FLUSH, "fua", Capability.FUA, "trim",
                Capability.TRIM, "zero", Capability.WRITE_ZEROES, "multi-conn", Capability.MULTI_CONN, "cache",
                Capability.CACHE);
        for (Map.Entry<String, Integer> n : names.entrySet()) {
            int code = Tools.run(TIMEOUT, "nbdinfo", "--can", n.getKey(), fx.uri("disk")).exitCode();
            assertEquals(Capability.has(caps, n.getValue()) ? 0 : 2, code, "--can " + n.getKey());
        }
        assertEquals(0, Tools.run(TIMEOUT, "nbdinfo", "--can", "connect", fx.uri("disk")).exitCode());
        assertEquals(2, Tools.run(TIMEOUT, "nbdinfo", "--is", "read-only", fx.uri("disk")).exitCode());
        assertEquals(SIZE, Long.parseLong(
                Tools.run(TIMEOUT, "nbdinfo", "--size", fx.uri("described")).assertOk().stdout().trim()));
    }

    @Test
    void nbdinfoListsTheExportsWithDescriptions() throws Exception {
        JsonNode list = JSON.readTree(
                Tools.run(TIMEOUT, "nbdinfo", "--list", "--json", fx.uri("")).assertOk().stdout());
        List<String> names = new ArrayList<>();
        for (JsonNode e : list.get("exports")) {
            names.add(e.get("export-name").asText());
            if (e.get("export-name").asText().equals("described")) {
                assertEquals("A test disk", e.get("description").asText());
            }
        }
        assertTrue(names.containsAll(List.of("disk", "described")), names.toString());
    }

    @Test
    void nbdinfoMapCoversTheWholeExport() throws Exception {
        JsonNode map = JSON.readTree(Tools.run(TIMEOUT, "nbdinfo", "--map", "--json", fx.uri("described"))
                .assertOk().stdout());
        long end = 0;
        for (JsonNode extent : map) {
            assertEquals(end, extent.get("offset").asLong(), "extents are consecutive");
            assertTrue(extent.get("length").asLong() > 0);
            end += extent.get("length").asLong();
        }
        assertEquals(SIZE, end);
    }

    @Test
    void qemuIoWritesAndReadsPatterns() {
        Tools.Result r = Tools.run(TIMEOUT, "qemu-io", "-f", "raw",
                "-c", "write -P 0xa5 1M 256k",
                "-c", "read -P 0xa5 1M 256k",
                "-c", "write -P 0x3c 1280k 4k",
                "-c", "flush",
                "-c", "write -z 1284k 60k",
                "-c", "read -P 0 1284k 60k",
                "-c", "read -P 0x3c 1280k 4k",
                fx.uri("disk")).assertOk();
        assertFalse(r.stdout().contains("Pattern verification failed"), r.describe());
        assertArrayEquals(filled(256 << 10, 0xa5), Images.read(diskImage, 1 << 20, 256 << 10));
        assertArrayEquals(filled(4 << 10, 0x3c), Images.read(diskImage, 1280 << 10, 4 << 10));
        assertArrayEquals(new byte[60 << 10], Images.read(diskImage, 1284 << 10, 60 << 10));
    }

    @Test
    void qemuImgConvertsIntoTheExportAndComparesEqual() throws Exception {
        Path target = Images.sparse(dir, "convert.img", SIZE);
        fx.fileExport("convert", target);
        Path source = Images.sparse(dir, "source.raw", SIZE);
        Images.write(source, 0, Images.pattern(1, 1 << 20));
        Images.write(source, 40 << 20, Images.pattern(2, 3 << 20));
        Tools.run(TIMEOUT, "qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", source.toString(),
                fx.uri("convert")).assertOk();
        Tools.Result compare = Tools.run(TIMEOUT, "qemu-img", "compare", "-f", "raw", "-F", "raw",
                source.toString(), fx.uri("convert")).assertOk();
        assertTrue(compare.stdout().contains("Images are identical"), compare.describe());
        assertArrayEquals(Files.readAllBytes(source), Files.readAllBytes(target));
    }

    @Test
    void nbdcopyRoundTrip() throws Exception {
        Path target = Images.sparse(dir, "nbdcopy.img", SIZE);
        fx.fileExport("nbdcopy", target);
        Path source = Images.sparse(dir, "nbdcopy-source.raw", SIZE);
        Images.write(source, 1 << 20, Images.pattern(3, 5 << 20));
        Images.write(source, 50 << 20, Images.pattern(4, 1 << 20));
        Tools.run(TIMEOUT, "nbdcopy", "--flush", source.toString(), fx.uri("nbdcopy")).assertOk();
        Path back = dir.resolve("nbdcopy-back.raw");
        Tools.run(TIMEOUT, "nbdcopy", fx.uri("nbdcopy"), back.toString()).assertOk();
        byte[] expected = Files.readAllBytes(source);
        assertArrayEquals(expected, Files.readAllBytes(target), "what nbdcopy wrote through the gateway");
        assertArrayEquals(expected, Files.readAllBytes(back), "what nbdcopy read back through the gateway");
    }

    private static byte[] filled(int length, int value) {
        byte[] b = new byte[length];
        Arrays.fill(b, (byte) value);
        return b;
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        if (array != null) {
            array.forEach(n -> out.add(n.asText()));
        }
        return out;
    }
}
