package io.mpathnbd.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.server.config.GatewayConfig;
import io.mpathnbd.testing.peers.Images;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Zone settings in configuration: trim-resets-zones is read, a zone size Linux would refuse stops serve. */
class ZoneConfigTest {
    @TempDir
    Path dir;

    @Test
    void trimResetsZonesIsAnExportSetting() {
        GatewayConfig c = GatewayConfig.parse("listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\n"
                + "defaults:\n  trim-resets-zones: true\n"
                + "exports:\n  - name: a\n    paths: [file:/a.img]\n"
                + "  - name: b\n    trim-resets-zones: false\n    paths: [file:/b.img]\n");
        assertTrue(c.exports().get(0).toExportConfig().trimResetsZones());
        assertFalse(c.exports().get(1).toExportConfig().trimResetsZones());
        assertFalse(GatewayConfig.parse("listen: 127.0.0.1:0\nexports:\n  - name: a\n    paths: [file:/a.img]\n")
                .exports().get(0).toExportConfig().trimResetsZones());
    }

    @Test
    void aZoneSizeThatIsNoPowerOfTwoIsAConfigurationError() {
        Path img = Images.sparse(dir, "z.img", 8 << 20);
        CliRun r = CliRun.of("serve", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
                "--export", "z=file:" + img + "?zone-size=3MiB");
        assertEquals(2, r.exitCode(), r.toString());
        assertTrue(r.err().contains("zone-size 3145728 is not a power of two"), r.toString());
    }

    @Test
    void anExportMixingZonedAndPlainPathsIsRefusedAtStartNamingThem() {
        Path img = Images.sparse(dir, "z.img", 8 << 20);
        Path plain = Images.sparse(dir, "plain.img", 8 << 20);
        CliRun nbd = CliRun.of("serve", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
                "--export", "z=file:" + img + "?zone-size=1MiB,nbd://127.0.0.1:1/x");
        assertEquals(2, nbd.exitCode(), nbd.toString());
        assertTrue(nbd.err().contains("path p0 (file:" + img + "?zone-size=1MiB) is zoned but path p1 "
                + "(nbd://127.0.0.1:1/x) is not: an export cannot mix zoned and non-zoned paths"), nbd.toString());
        CliRun file = CliRun.of("serve", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
                "--export", "z=file:" + plain + ",file:" + img + "?zone-size=1MiB");
        assertEquals(2, file.exitCode(), file.toString());
        assertTrue(file.err().contains("path p1 (file:" + img + "?zone-size=1MiB) is zoned but path p0"), file.toString());
    }
}
