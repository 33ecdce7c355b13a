package io.mpathnbd.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.DriverOptions;
import io.mpathnbd.core.export.ExportConfig;
import io.mpathnbd.core.export.FailbackMode;
import io.mpathnbd.core.backend.AccessState;
import io.mpathnbd.core.path.PathConfig;
import io.mpathnbd.server.frontend.FrontendLimits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GatewayConfigTest {

    static final String FULL = """
            listen: 127.0.0.1:10809
            admin: 127.0.0.1:9811
            limits:
              max-payload: 16MiB
              max-option-length: 32KiB
              max-options: 32
              handshake-timeout: 7s
              idle-timeout: 0s
              max-connections: 100
              attach-wait: 45s
              payload-timeout: 10s
              max-connections-per-address: 8
            defaults:
              iopolicy: queue-depth
              no-path-timeout: 45s
              queue-if-no-path: true
              max-retries: 4
              fence-delay: 250ms
              removal-delay: 1m
              failback: manual
              reconnect-min: 200ms
              reconnect-max: 20s
              probe-interval: 3s
              retry-delay: 75ms
              io-timeout: 9s
              connect-timeout: 2s
              connections: 4
            exports:
              - name: disk0
                description: "the first disk"
                identity: "naa.6001405abcdef"
                iopolicy: round-robin
                paths:
                  - nbd://127.0.0.1:10810/disk
                  - uri: nbd://127.0.0.1:10811/disk
                    id: b
                    distance: 2
                    access-state: non-optimized
              - name: disk1
                max-retries: 2
                paths:
                  - file:/var/lib/disk1.img
            """;

    @Test
    void parsesTheFullExample() {
        GatewayConfig c = GatewayConfig.parse(FULL);
        assertEquals(new HostPort("127.0.0.1", 10809), c.listen());
        assertEquals(new HostPort("127.0.0.1", 9811), c.admin());
        assertEquals(new FrontendLimits(16 << 20, 32 << 10, 32, Duration.ofSeconds(7), Duration.ZERO, 100,
                Duration.ofSeconds(45), Duration.ofSeconds(10), 8),
                c.limits());

        ExportSettings d = c.defaults();
        assertEquals("queue-depth", d.ioPolicy());
        assertEquals(Duration.ofSeconds(45), d.noPathTimeout());
        assertTrue(d.queueIfNoPath());
        assertEquals(4, d.maxRetries());
        assertEquals(Duration.ofMillis(250), d.fenceDelay());
        assertEquals(Duration.ofMinutes(1), d.removalDelay());
        assertEquals(FailbackMode.MANUAL, d.failback());
        assertEquals(Duration.ofMillis(200), d.reconnectMin());
        assertEquals(Duration.ofSeconds(20), d.reconnectMax());
        assertEquals(Duration.ofSeconds(3), d.probeInterval());
        assertEquals(Duration.ofMillis(75), d.retryDelay());
        assertEquals(Duration.ofSeconds(9), d.ioTimeout());
        assertEquals(Duration.ofSeconds(2), d.connectTimeout());
        assertEquals(4, d.connections());

        assertEquals(2, c.exports().size());
        ExportDefinition e0 = c.exports().get(0);
        assertEquals("disk0", e0.name());
        assertEquals("the first disk", e0.description());
        assertEquals("naa.6001405abcdef", e0.identity());
        assertEquals("round-robin", e0.settings().ioPolicy(), "export override");
        assertEquals(4, e0.settings().maxRetries(), "inherited from defaults");
        assertEquals(List.of(
                new PathDefinition("p0", "nbd://127.0.0.1:10810/disk", 0, AccessState.OPTIMIZED),
                new PathDefinition("b", "nbd://127.0.0.1:10811/disk", 2, AccessState.NON_OPTIMIZED)),
                e0.paths());

        ExportDefinition e1 = c.exports().get(1);
        assertEquals(2, e1.settings().maxRetries());
        assertEquals("queue-depth", e1.settings().ioPolicy());
        assertNull(e1.description());
        assertEquals("file:/var/lib/disk1.img", e1.paths().get(0).uri());
        assertEquals(e1, c.export("disk1"));
        assertNull(c.export("nope"));
    }

    @Test
    void convertsToCoreTypes() {
        GatewayConfig c = GatewayConfig.parse(FULL);
        ExportDefinition e0 = c.exports().get(0);
        ExportConfig ec = e0.toExportConfig();
        assertEquals(new ExportConfig("disk0", "the first disk", "round-robin", Duration.ofSeconds(45), true, 4,
                Duration.ofMillis(250), Duration.ofMinutes(1), FailbackMode.MANUAL, Duration.ofMillis(200),
                Duration.ofSeconds(20), Duration.ofSeconds(3), Duration.ofMillis(75), "naa.6001405abcdef"), ec);

        DriverOptions o = e0.driverOptions(c.limits().maxPayload());
        assertEquals(new DriverOptions(Duration.ofSeconds(2), Duration.ofSeconds(9), 4, 16 << 20,
                "naa.6001405abcdef"), o);
        PathConfig pc = e0.paths().get(1).toPathConfig(o);
        assertEquals(new PathConfig("b", "nbd://127.0.0.1:10811/disk", 2, AccessState.NON_OPTIMIZED, o), pc);
    }

    @Test
    void minimalConfigTakesTheDocumentedDefaults() {
        GatewayConfig c = GatewayConfig.parse("""
                exports:
                  - name: d
                    paths: [file:/tmp/x.img]
                """);
        assertEquals(new HostPort("0.0.0.0", 10809), c.listen());
        assertEquals(new HostPort("127.0.0.1", 9810), c.admin());
        assertEquals(FrontendLimits.defaults(), c.limits());
        assertEquals(new FrontendLimits(32 << 20, 64 << 10, 64, Duration.ofSeconds(10), Duration.ZERO, 4096,
                Duration.ofSeconds(30), Duration.ofSeconds(30), 0),
                c.limits());
        ExportSettings s = c.exports().get(0).settings();
        assertEquals(ExportSettings.defaults(), s);
        assertEquals("numa", s.ioPolicy());
        assertEquals(Duration.ofSeconds(30), s.noPathTimeout());
        assertFalse(s.queueIfNoPath());
        assertEquals(8, s.maxRetries());
        assertEquals(Duration.ofMillis(50), s.fenceDelay());
        assertEquals(Duration.ofSeconds(30), s.removalDelay());
        assertEquals(FailbackMode.IMMEDIATE, s.failback());
        assertEquals(Duration.ofMillis(100), s.reconnectMin());
        assertEquals(Duration.ofSeconds(10), s.reconnectMax());
        assertEquals(Duration.ofSeconds(5), s.probeInterval());
        assertEquals(Duration.ofMillis(50), s.retryDelay());
        assertEquals(Duration.ofSeconds(5), s.ioTimeout());
        assertEquals(Duration.ofSeconds(5), s.connectTimeout());
        assertEquals(0, s.connections());
        // the core's own defaults agree with ours
        ExportConfig core = ExportConfig.defaults("d");
        assertEquals(core, c.exports().get(0).toExportConfig());
        assertEquals(DriverOptions.defaults(), c.exports().get(0).driverOptions(c.limits().maxPayload()));
    }

    @Test
    void assignsPathIdsByPositionAroundConfiguredOnes() {
        GatewayConfig c = GatewayConfig.parse("""
                exports:
                  - name: d
                    paths:
                      - uri: file:/a
                        id: p1
                      - file:/b
                      - file:/c
                """);
        assertEquals(List.of("p1", "p2", "p3"), c.exports().get(0).paths().stream().map(PathDefinition::id).toList());
        GatewayConfig c2 = GatewayConfig.parse("""
                exports:
                  - name: d
                    paths: [file:/a, file:/b, {uri: file:/c, id: fast}]
                """);
        assertEquals(List.of("p0", "p1", "fast"), c2.exports().get(0).paths().stream().map(PathDefinition::id)
                .toList());
    }

    @Test
    void acceptsEveryDurationAndSizeForm() {
        GatewayConfig c = GatewayConfig.parse("""
                limits:
                  max-payload: 33554432
                  max-option-length: 4KiB
                  handshake-timeout: 1h
                  idle-timeout: 0
                defaults:
                  fence-delay: 0
                  removal-delay: 2m
                  no-path-timeout: 5s
                  retry-delay: 100ms
                exports:
                  - name: d
                    paths: [file:/a]
                """);
        assertEquals(32 << 20, c.limits().maxPayload());
        assertEquals(4096, c.limits().maxOptionLength());
        assertEquals(Duration.ofHours(1), c.limits().handshakeTimeout());
        assertEquals(Duration.ZERO, c.limits().idleTimeout());
        assertEquals(Duration.ZERO, c.defaults().fenceDelay());
        assertEquals(Duration.ofMinutes(2), c.defaults().removalDelay());
        assertEquals(Duration.ofSeconds(5), c.defaults().noPathTimeout());
        assertEquals(Duration.ofMillis(100), c.defaults().retryDelay());
        assertEquals(64L << 10, Units.size("x", "64KiB"));
        assertEquals(32L << 20, Units.size("x", "32M"));
        assertEquals(1L << 30, Units.size("x", "1GiB"));
        assertEquals(512, Units.size("x", "512"));
    }

    @Test
    void loadsAFileAndNamesAMissingOne(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("gw.yaml");
        Files.writeString(f, FULL);
        assertEquals(GatewayConfig.parse(FULL), GatewayConfig.load(f));
        Path missing = dir.resolve("nope.yaml");
        ConfigException e = assertThrows(ConfigException.class, () -> GatewayConfig.load(missing));
        assertEquals("cannot read " + missing + ": no such file", e.getMessage());
    }

    // ---- inline form (serve --listen --admin --export --iopolicy)

    @Test
    void inlineFormBuildsExports() {
        GatewayConfig c = GatewayConfig.inline("127.0.0.1:20809", "127.0.0.1:20810",
                List.of("disk0=nbd://127.0.0.1:10810/disk0,nbd://127.0.0.1:10811/disk0", "disk1=file:/tmp/img"),
                "round-robin");
        assertEquals(new HostPort("127.0.0.1", 20809), c.listen());
        assertEquals(new HostPort("127.0.0.1", 20810), c.admin());
        assertEquals(2, c.exports().size());
        ExportDefinition e0 = c.exports().get(0);
        assertEquals("disk0", e0.name());
        assertEquals("round-robin", e0.settings().ioPolicy());
        assertEquals(List.of(new PathDefinition("p0", "nbd://127.0.0.1:10810/disk0", 0, AccessState.OPTIMIZED),
                new PathDefinition("p1", "nbd://127.0.0.1:10811/disk0", 0, AccessState.OPTIMIZED)), e0.paths());
        assertEquals("file:/tmp/img", c.exports().get(1).paths().get(0).uri());
    }

    @Test
    void inlineFormDefaults() {
        GatewayConfig c = GatewayConfig.inline(null, null, List.of("d=file:/x"), null);
        assertEquals(new HostPort("0.0.0.0", 10809), c.listen());
        assertEquals(new HostPort("127.0.0.1", 9810), c.admin());
        assertEquals("numa", c.exports().get(0).settings().ioPolicy());
        assertEquals(FrontendLimits.defaults(), c.limits());
    }

    @Test
    void inlineFlagsOverrideAndExtendAFileConfig() {
        GatewayConfig file = GatewayConfig.parse(FULL);
        GatewayConfig c = file.withInline("0.0.0.0:1234", null, List.of("disk9=file:/z"), null);
        assertEquals(new HostPort("0.0.0.0", 1234), c.listen());
        assertEquals(file.admin(), c.admin());
        assertEquals(List.of("disk0", "disk1", "disk9"), c.exports().stream().map(ExportDefinition::name).toList());
        assertEquals("queue-depth", c.export("disk9").settings().ioPolicy(), "takes the file's defaults");
        assertEquals(4, c.export("disk9").settings().maxRetries());
        assertEquals(file.limits(), c.limits());
        GatewayConfig rr = file.withInline(null, null, List.of(), "service-time");
        assertEquals(List.of("service-time", "service-time"),
                rr.exports().stream().map(x -> x.settings().ioPolicy()).toList(), "--iopolicy sets every export's");
        assertEquals(2, rr.export("disk1").settings().maxRetries(), "and nothing else");
        ConfigException e = assertThrows(ConfigException.class,
                () -> file.withInline(null, null, List.of("disk0=file:/z"), null));
        assertEquals("--export 'disk0=file:/z': duplicate export name 'disk0'", e.getMessage());
    }

    @Test
    void inlineErrors() {
        inlineError(List.of("disk0"), null, "--export 'disk0': expected NAME=URI[,URI...]");
        inlineError(List.of("=file:/x"), null, "--export '=file:/x': expected NAME=URI[,URI...]");
        inlineError(List.of("disk0="), null, "--export 'disk0=': expected NAME=URI[,URI...]");
        inlineError(List.of("disk0=file:/a,,file:/b"), null,
                "--export 'disk0=file:/a,,file:/b': empty URI in the list (expected NAME=URI[,URI...])");
        inlineError(List.of("disk0=foo://x/y"), null,
                "--export 'disk0=foo://x/y': unsupported scheme 'foo' (supported: file, iscsi, nbd, nbds)");
        inlineError(List.of("d=file:/a", "d=file:/b"), null, "--export 'd=file:/b': duplicate export name 'd'");
        inlineError(List.of("d=file:/a"), "fastest",
                "--iopolicy: 'fastest' is not one of numa, round-robin, queue-depth, service-time");
        inlineError(List.of(), null,
                "--export: missing (give at least one --export NAME=URI[,URI...], or --config FILE)");
        ConfigException e = assertThrows(ConfigException.class,
                () -> GatewayConfig.inline("localhost", null, List.of("d=file:/a"), null));
        assertEquals("--listen: 'localhost' is not HOST:PORT (e.g. 127.0.0.1:10809)", e.getMessage());
        e = assertThrows(ConfigException.class,
                () -> GatewayConfig.inline(null, "127.0.0.1:99999", List.of("d=file:/a"), null));
        assertEquals("--admin: port 99999 in '127.0.0.1:99999' is out of range (0-65535)", e.getMessage());
    }

    @Test
    void theSameBackendTwiceInAnExportIsRefusedNamingBoth() {
        inlineError(List.of("d=file:/a,file:/a"), null, "--export 'd=file:/a,file:/a' URI 2: 'file:/a' is the same"
                + " backend as --export 'd=file:/a,file:/a' URI 1 ('file:/a'): two paths to one backend give no"
                + " redundancy");
        inlineError(List.of("d=nbd://127.0.0.1/x,NBD://127.0.0.1:10809/x"), null,
                "--export 'd=nbd://127.0.0.1/x,NBD://127.0.0.1:10809/x' URI 2: 'NBD://127.0.0.1:10809/x' is the same"
                        + " backend as --export 'd=nbd://127.0.0.1/x,NBD://127.0.0.1:10809/x' URI 1"
                        + " ('nbd://127.0.0.1/x'): two paths to one backend give no redundancy");
        ConfigException e = assertThrows(ConfigException.class, () -> GatewayConfig.parse("""
                exports:
                  - name: d
                    paths:
                      - iscsi://127.0.0.1/iqn.2026-11.io.x:t/0
                      - nbd://127.0.0.2/d
                      - uri: iscsi://user:secret@127.0.0.1:3260/iqn.2026-11.io.x:t/0
                        id: b
                """));
        assertEquals("exports[0].paths[2]: 'iscsi://user:***@127.0.0.1:3260/iqn.2026-11.io.x:t/0' is the same"
                + " backend as exports[0].paths[0] ('iscsi://127.0.0.1/iqn.2026-11.io.x:t/0'): two paths to one"
                + " backend give no redundancy", e.getMessage());
        e = assertThrows(ConfigException.class, () -> GatewayConfig.inline(null, null,
                List.of("d=file:///srv/disk.img,file:/srv/./disk.img"), null));
        assertTrue(e.getMessage().contains("is the same backend as"), e.getMessage());

        // other hosts, ports, exports or LUNs are other backends; other exports may share one
        GatewayConfig ok = GatewayConfig.inline(null, null, List.of(
                "a=nbd://127.0.0.1/x,nbd://127.0.0.2/x,nbd://127.0.0.1:10810/x,nbd://127.0.0.1/y",
                "b=iscsi://127.0.0.1/iqn.2026-11.io.x:t/0,iscsi://127.0.0.1/iqn.2026-11.io.x:t/1",
                "c=nbd://127.0.0.1/x"), null);
        assertEquals(4, ok.export("a").paths().size());
    }

    @Test
    void inlineErrorsHideSecrets() {
        inlineError(List.of("d=foo://user:secret@host/x"), null,
                "--export 'd=foo://user:***@host/x': unsupported scheme 'foo' (supported: file, iscsi, nbd, nbds)");
    }

    private static void inlineError(List<String> specs, String iopolicy, String message) {
        ConfigException e = assertThrows(ConfigException.class,
                () -> GatewayConfig.inline("127.0.0.1:1", "127.0.0.1:2", specs, iopolicy));
        assertEquals(message, e.getMessage());
    }

    @Test
    void hostPortForms() {
        assertEquals(new HostPort("::1", 10809), HostPort.parse("listen", "[::1]:10809"));
        assertEquals("[::1]:10809", new HostPort("::1", 10809).toString());
        assertEquals(new HostPort("localhost", 0), HostPort.parse("listen", "localhost:0"));
        assertEquals("listen: '::1:10809' is not HOST:PORT (write IPv6 hosts in brackets, e.g. [::1]:10809)",
                assertThrows(ConfigException.class, () -> HostPort.parse("listen", "::1:10809")).getMessage());
        assertEquals("listen: port 'http' in 'h:http' is not a number",
                assertThrows(ConfigException.class, () -> HostPort.parse("listen", "h:http")).getMessage());
    }
}
