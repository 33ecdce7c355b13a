package io.mpathnbd.server.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.server.Gateway;
import io.mpathnbd.server.GatewayTestSupport;
import io.mpathnbd.server.config.ConfigException;
import io.mpathnbd.server.config.GatewayConfig;
import io.mpathnbd.testing.peers.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS-PSK on the gateway's NBD port ({@code tls: {psk-file: FILE}}, psktool's format) with real GnuTLS clients:
 * libnbd's nbdinfo and nbdsh with {@code tls-psk-file}, qemu-io with {@code tls-creds-psk}; a wrong key and an
 * unknown user are refused while the right one is served, and certificates beside a PSK file are a config error.
 */
class StartTlsPskTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final String KEY = "8b3d6c0f2e1a4d5b9c7e6f0a1b2c3d4e";

    @TempDir
    Path dir;

    @Test
    void pskClientsDoIoAndWrongKeysAreRefused() throws Exception {
        Path keys = Files.writeString(dir.resolve("keys.psk"), "alice:" + KEY + "\n");
        Path wrong = Files.writeString(dir.resolve("wrong.psk"), "alice:" + KEY.replace('8', '9') + "\n");
        Path stranger = Files.writeString(dir.resolve("stranger.psk"), "mallory:" + KEY + "\n");
        Gateway g = GatewayTestSupport.twoPathGatewayWith(GatewayTestSupport.image(dir, "disk.img"),
                "tls:\n  mode: required\n  psk-file: " + keys + "\n");
        try {
            int port = g.nbdAddress().getPort();
            String uri = "nbds://alice@127.0.0.1:" + port + "/disk0?tls-psk-file=" + keys;
            assertEquals(String.valueOf(GatewayTestSupport.IMAGE_SIZE),
                    Tools.run(TIMEOUT, "nbdinfo", "--size", uri).assertOk().stdout().strip());
            Tools.run(TIMEOUT, "nbdsh", "-c", String.join("\n",
                    "h.set_uri_allow_local_file(True)",
                    "h.connect_uri('" + uri + "')",
                    "h.pwrite(b'\\x33' * 4096, 8192)",
                    "assert h.pread(4096, 8192) == b'\\x33' * 4096",
                    "assert h.get_tls_negotiated()")).assertOk();
            Path qemuDir = Files.createDirectories(dir.resolve("qemu-psk"));
            Files.copy(keys, qemuDir.resolve("keys.psk"));
            Tools.Result qemu = Tools.run(TIMEOUT, "qemu-io", "--object",
                    "tls-creds-psk,id=tls0,dir=" + qemuDir + ",username=alice,endpoint=client", "--image-opts",
                    "driver=nbd,host=127.0.0.1,port=" + port + ",export=disk0,tls-creds=tls0",
                    "-c", "write -P 0x44 1M 64k", "-c", "read -P 0x44 1M 64k").assertOk();
            assertFalse(qemu.stdout().contains("failed"), qemu.describe());

            for (String bad : new String[] {
                    "nbds://alice@127.0.0.1:" + port + "/disk0?tls-psk-file=" + wrong,
                    "nbds://mallory@127.0.0.1:" + port + "/disk0?tls-psk-file=" + stranger,
                    "nbd://127.0.0.1:" + port + "/disk0"}) {
                Tools.Result r = Tools.run(TIMEOUT, "nbdinfo", "--size", bad);
                assertFalse(r.ok(), bad + ": " + r.describe());
            }
            Tools.run(TIMEOUT, "nbdinfo", "--size", uri).assertOk();
        } finally {
            g.close();
        }
    }

    @Test
    void aPskFileBesideCertificatesOrABrokenOneIsAConfigError() throws Exception {
        Path keys = Files.writeString(dir.resolve("k.psk"), "alice:" + KEY + "\n");
        ConfigException both = assertThrows(ConfigException.class, () -> GatewayConfig.parse("tls:\n  psk-file: "
                + keys + "\n  certificates: " + dir + "\nexports:\n  - name: d\n    paths: [file:///x]\n"));
        assertTrue(both.getMessage().contains("either psk-file"), both.getMessage());
        Path broken = Files.writeString(dir.resolve("broken.psk"), "alice:not-hex\n");
        ConfigException bad = assertThrows(ConfigException.class, () -> GatewayConfig.parse("tls:\n  psk-file: "
                + broken + "\nexports:\n  - name: d\n    paths: [file:///x]\n"));
        assertTrue(bad.getMessage().startsWith("tls.psk-file: ") && !bad.getMessage().contains("not-hex"),
                bad.getMessage());
    }
}
