package io.mpathnbd.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.DriverOptions;
import io.mpathnbd.core.backend.TransportOptions;
import io.mpathnbd.iscsi.backend.IscsiOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code iscsi:} sections: top level, per-export override, validation naming the key, secrets never shown. */
class IscsiConfigTest {
    private static final String SECRET = "s3cret-value-1234";

    @TempDir
    Path dir;

    private static TransportOptions transport(GatewayConfig c, int export) {
        DriverOptions o = c.exports().get(export).driverOptions(c.limits().maxPayload());
        return o.transport();
    }

    private static void error(String yaml, String message) {
        ConfigException e = assertThrows(ConfigException.class, () -> GatewayConfig.parse(yaml));
        assertEquals(message, e.getMessage());
        assertFalse(e.getMessage().contains(SECRET), "a secret in a message");
    }

    @Test
    void topLevelSectionReachesEveryExportAndAnExportOverridesKeyByKey() {
        GatewayConfig c = GatewayConfig.parse("""
                iscsi:
                  initiator-name: iqn.2026-11.com.example:gw1
                  chap-user: gw
                  chap-secret: %s
                  header-digest: crc32c
                  data-digest: none
                  login-timeout: 7s
                  nop-interval: 0s
                  nop-timeout: 3s
                  abort-timeout: 2s
                exports:
                  - name: a
                    paths: [file:/a]
                  - name: b
                    iscsi:
                      data-digest: CRC32C
                      mutual-chap-user: target
                      mutual-chap-secret: other-secret-99
                    paths: [file:/b]
                """.formatted(SECRET));
        TransportOptions a = transport(c, 0);
        assertEquals("iqn.2026-11.com.example:gw1", a.get(IscsiOptions.INITIATOR_NAME));
        assertEquals("gw", a.get(IscsiOptions.CHAP_USER));
        assertEquals(SECRET, a.get(IscsiOptions.CHAP_SECRET));
        assertEquals("crc32c", a.get(IscsiOptions.HEADER_DIGEST));
        assertEquals("none", a.get(IscsiOptions.DATA_DIGEST));
        assertEquals(Duration.ofSeconds(7), a.duration(IscsiOptions.LOGIN_TIMEOUT, null));
        assertEquals(Duration.ZERO, a.duration(IscsiOptions.NOP_INTERVAL, null));
        assertEquals(Duration.ofSeconds(3), a.duration(IscsiOptions.NOP_TIMEOUT, null));
        assertEquals(Duration.ofSeconds(2), a.duration(IscsiOptions.ABORT_TIMEOUT, null));
        assertNull(a.get(IscsiOptions.MUTUAL_CHAP_USER));

        TransportOptions b = transport(c, 1);
        assertEquals("crc32c", b.get(IscsiOptions.DATA_DIGEST));
        assertEquals("crc32c", b.get(IscsiOptions.HEADER_DIGEST), "not overridden: inherited");
        assertEquals("gw", b.get(IscsiOptions.CHAP_USER));
        assertEquals("target", b.get(IscsiOptions.MUTUAL_CHAP_USER));
        assertEquals("other-secret-99", b.get(IscsiOptions.MUTUAL_CHAP_SECRET));
    }

    @Test
    void withoutAnIscsiSectionNothingIsSetAndTheDriverDefaultsApply() {
        GatewayConfig c = GatewayConfig.parse("exports: [{name: a, paths: [file:/a]}]");
        assertTrue(transport(c, 0).isEmpty());
        assertTrue(IscsiOptions.defaultInitiatorName().startsWith("iqn.2026-11.io.mpathnbd:"));
    }

    @Test
    void secretsAreNeverShown() {
        GatewayConfig c = GatewayConfig.parse("""
                iscsi: {chap-user: gw, chap-secret: %s, mutual-chap-user: t, mutual-chap-secret: %s}
                exports: [{name: a, paths: [file:/a]}]
                """.formatted(SECRET, SECRET));
        assertFalse(c.toString().contains(SECRET), c.toString());
        String options = c.exports().get(0).driverOptions(1 << 20).toString();
        assertFalse(options.contains(SECRET), options);
        assertTrue(options.contains("iscsi.chap-secret=***"), options);
        assertTrue(options.contains("iscsi.chap-user=gw"), options);
    }

    @Test
    void secretFromAFileWithoutItsLineBreak() throws Exception {
        Path f = dir.resolve("chap");
        Files.writeString(f, SECRET + "\n");
        GatewayConfig c = GatewayConfig.parse("""
                iscsi: {chap-user: gw, chap-secret-file: %s}
                exports: [{name: a, paths: [file:/a]}]
                """.formatted(f));
        assertEquals(SECRET, transport(c, 0).get(IscsiOptions.CHAP_SECRET));
    }

    @Test
    void validationNamesTheKey() {
        String export = "exports: [{name: a, paths: [file:/a]}]\n";
        error("iscsi: {initiator-name: gateway1}\n" + export, "iscsi.initiator-name: 'gateway1' is not an iSCSI name"
                + " (it must start with iqn., eui. or naa.)");
        error("iscsi: {initiator-name: iqn.2026.x}\n" + export, "iscsi.initiator-name: 'iqn.2026.x' is not a valid iqn"
                + " name (expected iqn.YYYY-MM.reversed.domain[:identifier], letters, digits, '.', '-', ':')");
        error("iscsi: {chap-user: gw}\n" + export,
                "iscsi.chap-secret: missing (chap-user and chap-secret go together)");
        error("iscsi: {chap-secret: " + SECRET + "}\n" + export,
                "iscsi.chap-user: missing (chap-user and chap-secret go together)");
        error("iscsi: {mutual-chap-user: t, chap-user: u, chap-secret: " + SECRET + "}\n" + export,
                "iscsi.mutual-chap-secret: missing (mutual-chap-user and mutual-chap-secret go together)");
        error("iscsi: {chap-user: gw, chap-secret: " + SECRET + ", chap-secret-file: /x}\n" + export,
                "iscsi.chap-secret: give either chap-secret or chap-secret-file, not both");
        error("iscsi: {chap-user: gw, chap-secret-file: " + dir.resolve("none") + "}\n" + export,
                "iscsi.chap-secret-file: cannot read " + dir.resolve("none") + ": no such file");
        error("iscsi: {chap-user: gw, chap-secret: ''}\n" + export, "iscsi.chap-secret: the secret is empty");
        error("iscsi: {header-digest: md5}\n" + export, "iscsi.header-digest: 'md5' is not one of none, crc32c");
        error("iscsi: {login-timeout: 5}\n" + export, "iscsi.login-timeout: '5' has no unit (use e.g. 100ms, 5s, 2m)");
        error("iscsi: {nop-timeout: 0s}\n" + export, "iscsi.nop-timeout: must be at least 100ms, got '0s'");
        error("iscsi: {chap-secrt: x}\n" + export, "unknown key 'chap-secrt' at iscsi (did you mean 'chap-secret'?)");
        error("iscsi: crc32c\n" + export, "iscsi: expected a mapping of keys, got 'crc32c'");
        error("""
                exports:
                  - name: a
                    iscsi: {data-digest: sha1}
                    paths: [file:/a]
                """, "exports[0].iscsi.data-digest: 'sha1' is not one of none, crc32c");
        error("""
                exports:
                  - name: a
                    iscsi: {chap-user: only}
                    paths: [file:/a]
                """, "exports[0].iscsi.chap-secret: missing (chap-user and chap-secret go together)");
    }

    @Test
    void anExportMayCompleteTheTopLevelCredentials() {
        GatewayConfig c = GatewayConfig.parse("""
                iscsi: {chap-user: gw, chap-secret: %s}
                exports:
                  - name: a
                    iscsi: {chap-secret: rotated-secret-1}
                    paths: [file:/a]
                """.formatted(SECRET));
        assertEquals("gw", transport(c, 0).get(IscsiOptions.CHAP_USER));
        assertEquals("rotated-secret-1", transport(c, 0).get(IscsiOptions.CHAP_SECRET));
    }

    @Test
    void inlineExportsAddedToAConfigFileTakeItsIscsiSection() {
        GatewayConfig c = GatewayConfig.parse("""
                iscsi: {initiator-name: iqn.2026-11.com.example:gw2}
                exports: [{name: a, paths: [file:/a]}]
                """).withInline(null, null, java.util.List.of("b=file:/b"), null);
        assertEquals("iqn.2026-11.com.example:gw2", transport(c, 1).get(IscsiOptions.INITIATOR_NAME));
    }
}
