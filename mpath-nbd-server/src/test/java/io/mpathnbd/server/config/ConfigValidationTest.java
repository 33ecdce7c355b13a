package io.mpathnbd.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Every way a config can be wrong, and the exact message that names the key and says why. */
class ConfigValidationTest {

    private static final String EXPORT = """
            exports:
              - name: disk0
                paths: [file:/a]
            """;

    private static void error(String yaml, String message) {
        ConfigException e = assertThrows(ConfigException.class, () -> GatewayConfig.parse(yaml));
        assertEquals(message, e.getMessage());
    }

    private static void defaultsError(String line, String message) {
        error("defaults:\n  " + line + "\n" + EXPORT, message);
    }

    private static void limitsError(String line, String message) {
        error("limits:\n  " + line + "\n" + EXPORT, message);
    }

    @Test
    void unsupportedScheme() {
        error("""
                exports:
                  - name: disk0
                    paths:
                      - file:/a
                      - foo://host/x
                """, "exports[0].paths[1]: unsupported scheme 'foo' (supported: file, iscsi, nbd, nbds)");
        error("""
                exports:
                  - name: disk0
                    paths:
                      - file:/a
                      - uri: foo://host/x
                """, "exports[0].paths[1].uri: unsupported scheme 'foo' (supported: file, iscsi, nbd, nbds)");
    }

    @Test
    void malformedOrSchemelessUri() {
        error("""
                exports:
                  - name: d
                    paths: ["nbd://host:10809/a b"]
                """, "exports[0].paths[0]: malformed path URI 'nbd://host:10809/a b': Illegal character in path");
        error("""
                exports:
                  - name: d
                    paths: [/var/disk.img]
                """, "exports[0].paths[0]: '/var/disk.img' has no scheme (e.g. nbd://HOST:PORT/EXPORT or file:/PATH)");
    }

    @Test
    void badDurations() {
        defaultsError("fence-delay: 10x", "defaults.fence-delay: '10x' is not a duration (use e.g. 100ms, 5s, 2m)");
        defaultsError("io-timeout: 5", "defaults.io-timeout: '5' has no unit (use e.g. 100ms, 5s, 2m)");
        defaultsError("io-timeout: 0", "defaults.io-timeout: must be at least 1ms, got '0'");
        defaultsError("no-path-timeout: -1s",
                "defaults.no-path-timeout: '-1s' is not a duration (use e.g. 100ms, 5s, 2m)");
        defaultsError("removal-delay: 10000h", "defaults.removal-delay: '10000h' is too large (at most a year)");
        defaultsError("reconnect-min: 20s",
                "defaults.reconnect-min: reconnect-min (20s) must not exceed reconnect-max (10s)");
        limitsError("handshake-timeout: soon",
                "limits.handshake-timeout: 'soon' is not a duration (use e.g. 100ms, 5s, 2m)");
    }

    @Test
    void badSizes() {
        limitsError("max-payload: 32MB?", "limits.max-payload: '32MB?' is not a size (use e.g. 32MiB, 64KiB or plain bytes)");
        limitsError("max-payload: 1GiB", "limits.max-payload: 1GiB is out of range (4KiB to 128MiB)");
        limitsError("max-option-length: 10", "limits.max-option-length: 10 is out of range (1KiB to 16MiB)");
    }

    @Test
    void badNumbersAndChoices() {
        defaultsError("max-retries: many", "defaults.max-retries: expected a whole number, got 'many'");
        defaultsError("max-retries: 1.5", "defaults.max-retries: expected a whole number, got '1.5'");
        defaultsError("max-retries: -1", "defaults.max-retries: -1 is out of range (0 to 1000)");
        defaultsError("connections: 1000", "defaults.connections: 1000 is out of range (0 to 64)");
        defaultsError("iopolicy: fastest",
                "defaults.iopolicy: 'fastest' is not one of numa, round-robin, queue-depth, service-time");
        defaultsError("failback: later", "defaults.failback: 'later' is not one of immediate, manual");
        defaultsError("queue-if-no-path: maybe", "defaults.queue-if-no-path: expected true or false, got 'maybe'");
        limitsError("max-connections: 0", "limits.max-connections: 0 is out of range (1 to 1000000)");
        error("""
                exports:
                  - name: d
                    paths:
                      - uri: file:/a
                        access-state: fast
                """, "exports[0].paths[0].access-state: 'fast' is not one of optimized, non-optimized, standby,"
                + " unavailable, offline");
        error("""
                exports:
                  - name: d
                    paths:
                      - uri: file:/a
                        distance: near
                """, "exports[0].paths[0].distance: expected a whole number, got 'near'");
    }

    @Test
    void choicesAreForgiving() {
        GatewayConfig c = GatewayConfig.parse("""
                defaults:
                  iopolicy: Round_Robin
                  failback: MANUAL
                exports:
                  - name: d
                    paths: [{uri: file:/a, access-state: Non_Optimized}]
                """);
        assertEquals("round-robin", c.defaults().ioPolicy());
    }

    @Test
    void unknownKeysWithSuggestions() {
        defaultsError("fence_delay: 1s", "unknown key 'fence_delay' at defaults (did you mean 'fence-delay'?)");
        defaultsError("iopolcy: numa", "unknown key 'iopolcy' at defaults (did you mean 'iopolicy'?)");
        limitsError("maxpayload: 1MiB", "unknown key 'maxpayload' at limits (did you mean 'max-payload'?)");
        error("listne: 127.0.0.1:1\n" + EXPORT, "unknown key 'listne' at the top level (did you mean 'listen'?)");
        error("zzz: 1\n" + EXPORT,
                "unknown key 'zzz' at the top level (known keys: " + String.join(", ", ConfigReader.ROOT_KEYS) + ")");
        assertTrue(ConfigReader.ROOT_KEYS.containsAll(List.of("listen", "admin", "defaults", "exports")));
        error("iopolicy: numa\n" + EXPORT,
                "unknown key 'iopolicy' at the top level (it belongs under 'defaults:' or in an export)");
        error("""
                exports:
                  - name: d
                    path: [file:/a]
                """, "unknown key 'path' at exports[0] (did you mean 'paths'?)");
        error("""
                exports:
                  - name: d
                    paths:
                      - url: file:/a
                """, "unknown key 'url' at exports[0].paths[0] (did you mean 'uri'?)");
    }

    @Test
    void exportsStructure() {
        error("listen: 127.0.0.1:1\n", "exports: missing (at least one export with at least one path is required)");
        error("exports: []\n", "exports: empty (at least one export with at least one path is required)");
        error("exports: disk0\n", "exports: expected a list, got 'disk0'");
        error("exports:\n  - disk0\n", "exports[0]: expected a mapping of keys, got 'disk0'");
        error("""
                exports:
                  - paths: [file:/a]
                """, "exports[0].name: missing (every export needs a name)");
        error("""
                exports:
                  - name: ""
                    paths: [file:/a]
                """, "exports[0].name: empty (an export needs a name clients can ask for)");
        error("""
                exports:
                  - name: d
                """, "exports[0].paths: missing (an export needs at least one path)");
        error("""
                exports:
                  - name: d
                    paths: []
                """, "exports[0].paths: empty (an export needs at least one path)");
        error("""
                exports:
                  - name: d
                    paths:
                      - id: x
                """, "exports[0].paths[0].uri: missing (every path needs a URI)");
        error("""
                exports:
                  - name: d
                    paths:
                      - [file:/a]
                """, "exports[0].paths[0]: expected a path URI or a mapping with 'uri', got a list");
        error("""
                exports:
                  - name: d
                    description: [a, b]
                    paths: [file:/a]
                """, "exports[0].description: expected a single value, got a list");
    }

    @Test
    void duplicates() {
        error("""
                exports:
                  - name: disk0
                    paths: [file:/a]
                  - name: disk0
                    paths: [file:/b]
                """, "exports[1].name: duplicate export name 'disk0'");
        error("""
                exports:
                  - name: d
                    paths:
                      - {uri: file:/a, id: x}
                      - {uri: file:/b, id: x}
                """, "exports[0].paths[1].id: duplicate path id 'x'");
        error("""
                exports:
                  - name: d
                    paths:
                      - {uri: file:/a, id: "a b"}
                """, "exports[0].paths[0].id: 'a b' is not a valid path id (letters, digits, '.', '_', '-';"
                + " at most 64, starting with a letter or digit)");
    }

    @Test
    void listenAddresses() {
        error("listen: 10809\n" + EXPORT, "listen: '10809' is not HOST:PORT (e.g. 127.0.0.1:10809)");
        error("admin: 127.0.0.1:http\n" + EXPORT, "admin: port 'http' in '127.0.0.1:http' is not a number");
        error("admin: 127.0.0.1:70000\n" + EXPORT, "admin: port 70000 in '127.0.0.1:70000' is out of range (0-65535)");
    }

    @Test
    void yamlProblems() {
        error("", "the config is empty: it needs at least 'exports' (a list of exports with paths)");
        error("- a\n- b\n", "the config: expected a mapping of keys, got a list");
        error("defaults: numa\n" + EXPORT, "defaults: expected a mapping of keys, got 'numa'");
        ConfigException e = assertThrows(ConfigException.class, () -> GatewayConfig.parse("""
                exports:
                  - name: d
                    paths: [file:/a
                """));
        assertTrue(e.getMessage().startsWith("YAML syntax error at line "), e.getMessage());
        e = assertThrows(ConfigException.class, () -> GatewayConfig.parse("""
                listen: 127.0.0.1:1
                listen: 127.0.0.1:2
                """ + EXPORT));
        assertTrue(e.getMessage().startsWith("YAML syntax error at line 2"), e.getMessage());
        assertTrue(e.getMessage().contains("Duplicate field 'listen'"), e.getMessage());
    }
}
