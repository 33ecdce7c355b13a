package io.mpathnbd.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.server.access.AccessRule;
import io.mpathnbd.server.access.ExportAccess;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The access keys in YAML: the accepted forms, inheritance from defaults, and every way they can be wrong. */
class AccessConfigTest {

    private static ExportAccess access(String yaml, String export) {
        return GatewayConfig.parse(yaml).export(export).access();
    }

    private static List<String> described(ExportAccess a) {
        return a.allow().stream().map(AccessRule::describe).toList();
    }

    private static void error(String yaml, String message) {
        ConfigException e = assertThrows(ConfigException.class, () -> GatewayConfig.parse(yaml));
        assertEquals(message, e.getMessage());
    }

    /** One export disk0 whose entry ends with {@code lines} (indented under it). */
    private static String export(String lines) {
        return "exports:\n  - name: disk0\n    paths: [file:/a]\n" + lines.indent(4);
    }

    @Test
    void withoutAccessKeysEveryClientMayAttachAndWrite() {
        assertEquals(ExportAccess.OPEN, access(export(""), "disk0"));
        assertEquals(ExportAccess.OPEN, GatewayConfig.inline("127.0.0.1:0", "127.0.0.1:0",
                List.of("disk1=file:/b"), null).export("disk1").access());
    }

    @Test
    void shortAndLongEntries() {
        ExportAccess a = access(export("""
                read-only: false
                allow:
                  - 10.0.0.0/8
                  - fd00::/8
                  - 127.0.0.3
                  - {network: 192.168.1.0/24, read-only: true}
                  - subject: "CN=host1, O=example"
                  - subject: CN=backup,O=example
                    network: 10.1.0.0/16
                    read-only: "true"
                """), "disk0");
        assertFalse(a.readOnly());
        assertEquals(List.of("10.0.0.0/8", "fd00::/8", "127.0.0.3/32", "192.168.1.0/24 read-only",
                "any address subject 'CN=host1,O=example'", "10.1.0.0/16 subject 'CN=backup,O=example' read-only"),
                described(a));
    }

    @Test
    void exportsInheritTheDefaultsAndTheirOwnListReplacesThem() {
        String yaml = """
                defaults:
                  read-only: true
                  allow: [10.0.0.0/8]
                exports:
                  - name: a
                    paths: [file:/a]
                  - name: b
                    read-only: false
                    allow: [127.0.0.1]
                    paths: [file:/b]
                """;
        ExportAccess a = access(yaml, "a");
        assertTrue(a.readOnly());
        assertEquals(List.of("10.0.0.0/8"), described(a));
        ExportAccess b = access(yaml, "b");
        assertFalse(b.readOnly());
        assertEquals(List.of("127.0.0.1/32"), described(b), "replaced, not merged");
    }

    @Test
    void inlineExportsGetTheDefaultsOfTheFile() {
        GatewayConfig c = GatewayConfig.parse("defaults:\n  read-only: true\n  allow: [10.0.0.0/8]\n" + export(""))
                .withInline(null, null, List.of("disk1=file:/b"), null);
        assertTrue(c.export("disk1").access().readOnly());
        assertEquals(List.of("10.0.0.0/8"), described(c.export("disk1").access()));
    }

    @Test
    void theIopolicyFlagKeepsTheAccessSettings() {
        GatewayConfig c = GatewayConfig.parse(export("read-only: true\nallow: [10.0.0.0/8]"))
                .withInline(null, null, null, "round-robin");
        assertTrue(c.export("disk0").access().readOnly());
        assertEquals(List.of("10.0.0.0/8"), described(c.export("disk0").access()));
    }

    @Test
    void malformedEntriesNameTheExportAndTheEntry() {
        error(export("allow: [10.0.0.0/8, 10.0.0.300]"), "export 'disk0': exports[0].allow[1]: '10.0.0.300' is not"
                + " an IPv4 or IPv6 address or network (expected e.g. 10.0.0.0/8, 192.168.1.7 or fd00::/8; host"
                + " names are not accepted)");
        error(export("allow: [10.0.0.0/33]"), "export 'disk0': exports[0].allow[0]: '10.0.0.0/33': prefix length 33"
                + " is too long for an IPv4 address (at most 32)");
        error(export("allow: [{network: 10.0.0.1/8}]"), "export 'disk0': exports[0].allow[0].network: '10.0.0.1/8'"
                + " has address bits set beyond the /8 prefix (the network is 10.0.0.0/8; for this one address write"
                + " 10.0.0.1)");
        error(export("allow: [{network: 10.0.0.0/8, readonly: true}]"), "export 'disk0': unknown key 'readonly' at"
                + " exports[0].allow[0] (did you mean 'read-only'?)");
        error(export("allow: [{read-only: true}]"), "export 'disk0': exports[0].allow[0]: needs 'network',"
                + " 'subject' or both (an entry that names neither would match every client)");
        error(export("allow: [{subject: 'CN=a,,'}]"), "export 'disk0': exports[0].allow[0].subject: 'CN=a,,' is not"
                + " a distinguished name (expected RFC 2253 form such as 'CN=host1,O=example'): improperly specified"
                + " input name: CN=a,,");
        error(export("allow: [{subject: ' '}]"), "export 'disk0': exports[0].allow[0].subject: empty (expected a"
                + " certificate subject such as 'CN=host1,O=example')");
        error(export("allow: [[10.0.0.0/8]]"), "export 'disk0': exports[0].allow[0]: expected a network (e.g."
                + " 10.0.0.0/8) or a mapping with 'network', 'subject', 'read-only', got a list");
        error(export("allow: []"), "export 'disk0': exports[0].allow: empty (no client could attach; leave 'allow'"
                + " out to let every client attach)");
        error(export("allow: 10.0.0.0/8"), "export 'disk0': exports[0].allow: expected a list, got '10.0.0.0/8'");
        error(export("read-only: maybe"), "export 'disk0': exports[0].read-only: expected true or false, got"
                + " 'maybe'");
        error(export("allow: [{network: 10.0.0.0/8, read-only: 1}]"), "export 'disk0': exports[0].allow[0]"
                + ".read-only: expected true or false, got '1'");
    }

    @Test
    void defaultsErrorsAndMisplacedKeys() {
        error("defaults:\n  allow: [300.0.0.0/8]\n" + export(""), "defaults.allow[0]: '300.0.0.0/8' is not an IPv4"
                + " or IPv6 address or network (expected e.g. 10.0.0.0/8, 192.168.1.7 or fd00::/8; host names are"
                + " not accepted)");
        error("read-only: true\n" + export(""), "unknown key 'read-only' at the top level (it belongs under"
                + " 'defaults:' or in an export)");
        error("allow: [10.0.0.0/8]\n" + export(""), "unknown key 'allow' at the top level (it belongs under"
                + " 'defaults:' or in an export)");
    }
}
