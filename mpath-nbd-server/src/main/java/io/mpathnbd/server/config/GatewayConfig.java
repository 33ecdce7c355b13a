package io.mpathnbd.server.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.mpathnbd.core.backend.Drivers;
import io.mpathnbd.core.backend.AccessState;
import io.mpathnbd.nbd.backend.NbdTlsOptions;
import io.mpathnbd.server.frontend.FrontendLimits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The validated gateway configuration: where to listen and with what TLS, the admin API's authentication and HTTPS,
 * the event loops' busy-poll window and transport, client limits, per-export defaults and the exports with their
 * paths. Immutable; run-time changes (paths, iopolicy) go through the admin API.
 */
public record GatewayConfig(
        HostPort listen,
        HostPort admin,
        AdminAuth adminAuth,
        AdminTls adminTls,
        TlsSettings tls,
        Duration busyPoll,
        IoTransport transport,
        FrontendLimits limits,
        ExportSettings defaults,
        List<ExportDefinition> exports) {

    /** NBD clients attach from other machines, so the NBD listener binds every interface by default. */
    public static final String DEFAULT_LISTEN = "0.0.0.0:10809";
    /** The admin API changes paths: never exposed beyond this machine unless the operator says so. */
    public static final String DEFAULT_ADMIN = "127.0.0.1:9810";
    /**
     * Off: at 4k QD1 50us of busy-poll gave +23 % IOPS but +54 % gateway CPU per request (a loop kept busy by one
     * synchronous client), a trade for the operator to choose; QD16 and idle gateways were unaffected (BENCHMARKS.md).
     */
    public static final Duration DEFAULT_BUSY_POLL = Duration.ZERO;
    /** A loop that spins longer than this before sleeping mostly burns CPU. */
    public static final Duration MAX_BUSY_POLL = Duration.ofMillis(1);

    private static final YAMLMapper YAML = YAMLMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    public GatewayConfig {
        exports = List.copyOf(exports);
    }

    /** Parses and validates YAML text; {@link ConfigException} names the wrong key and why. */
    public static GatewayConfig parse(String yaml) {
        JsonNode root;
        try {
            root = YAML.readTree(yaml);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            throw new ConfigException("YAML syntax error" + where + ": " + e.getOriginalMessage(), e);
        }
        return ConfigReader.read(root);
    }

    public static GatewayConfig load(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException("cannot read " + file + ": no such file");
        } catch (IOException e) {
            throw new ConfigException("cannot read " + file + ": " + e.getMessage(), e);
        }
        return parse(text);
    }

    /**
     * The command line's inline form: {@code --listen HOST:PORT --admin HOST:PORT --export NAME=URI[,URI...]
     * [--iopolicy POLICY]}; null listen/admin/iopolicy take the defaults.
     */
    public static GatewayConfig inline(String listen, String admin, List<String> exportSpecs, String iopolicy) {
        if (exportSpecs == null || exportSpecs.isEmpty()) {
            throw new ConfigException("--export: missing (give at least one --export NAME=URI[,URI...], or --config FILE)");
        }
        GatewayConfig base = new GatewayConfig(HostPort.parse("listen", DEFAULT_LISTEN),
                HostPort.parse("admin", DEFAULT_ADMIN), AdminAuth.unset(), AdminTls.off(), TlsSettings.OFF, DEFAULT_BUSY_POLL,
                IoTransport.AUTO, FrontendLimits.defaults(),
                ExportSettings.defaults(), List.of());
        return base.withInline(listen, admin, exportSpecs, iopolicy);
    }

    /**
     * This config with command-line flags applied: listen/admin override (when non-null), each export spec adds an
     * export using this config's defaults, and {@code iopolicy} (when non-null) becomes every export's iopolicy.
     */
    public GatewayConfig withInline(String listenFlag, String adminFlag, List<String> exportSpecs, String iopolicy) {
        HostPort l = listenFlag == null ? listen : HostPort.parse("--listen", listenFlag);
        HostPort a = adminFlag == null ? admin : HostPort.parse("--admin", adminFlag);
        ExportSettings settings = defaults;
        if (iopolicy != null) {
            settings = defaults.withIoPolicy(Section.oneOf("--iopolicy", iopolicy, ExportSettings.IO_POLICIES));
        }
        List<ExportDefinition> all = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (ExportDefinition e : exports) {
            names.add(e.name());
            all.add(iopolicy == null ? e : new ExportDefinition(e.name(), e.description(), e.identity(),
                    e.settings().withIoPolicy(settings.ioPolicy()), e.paths()));
        }
        if (exportSpecs != null) {
            for (String spec : exportSpecs) {
                ExportDefinition def = inlineExport(spec, settings);
                if (!names.add(def.name())) {
                    throw new ConfigException("--export '" + Drivers.redact(spec) + "': duplicate export name '"
                            + def.name() + "'");
                }
                all.add(def);
            }
        }
        return new GatewayConfig(l, a, adminAuth, adminTls, tls, busyPoll, transport, limits, defaults, all);
    }

    /** This config with the command line's {@code --busy-poll} (when non-null) as the busy-poll window. */
    public GatewayConfig withBusyPoll(String flag) {
        if (flag == null) {
            return this;
        }
        Duration d = Units.fineDuration("--busy-poll", flag, MAX_BUSY_POLL);
        return new GatewayConfig(listen, admin, adminAuth, adminTls, tls, d, transport, limits, defaults, exports);
    }

    /** This config with the command line's {@code --transport} (when non-null) as the event loops' transport. */
    public GatewayConfig withTransport(String flag) {
        if (flag == null) {
            return this;
        }
        IoTransport t = IoTransport.of(Section.oneOf("--transport", flag, IoTransport.LABELS));
        return new GatewayConfig(listen, admin, adminAuth, adminTls, tls, busyPoll, t, limits, defaults, exports);
    }

    /** This config with the command line's {@code --admin-token-file} (when non-null) as the admin token's file. */
    public GatewayConfig withAdminTokenFile(String flag) {
        if (flag == null) {
            return this;
        }
        return new GatewayConfig(listen, admin, adminAuth.withTokenFile(flag), adminTls, tls, busyPoll, transport, limits,
                defaults, exports);
    }

    /**
     * This config with the command line's {@code --backend-tls-certificates} (when non-null) as the top-level
     * {@code backend-tls.certificates}: it replaces the top-level directory, in the defaults and in every export that
     * inherits it (inline ones included); an export or path with a directory of its own keeps it.
     */
    public GatewayConfig withBackendTlsCertificates(String flag) {
        if (flag == null) {
            return this;
        }
        if (flag.isBlank()) {
            throw new ConfigException("--backend-tls-certificates: empty");
        }
        String inherited = defaults.transport().get(NbdTlsOptions.CERTIFICATES);
        ExportSettings d = defaults.withTransport(defaults.transport().with(NbdTlsOptions.CERTIFICATES, flag.trim()));
        List<ExportDefinition> all = new ArrayList<>();
        for (ExportDefinition e : exports) {
            ExportSettings s = e.settings();
            if (java.util.Objects.equals(s.transport().get(NbdTlsOptions.CERTIFICATES), inherited)) {
                s = s.withTransport(s.transport().with(NbdTlsOptions.CERTIFICATES, flag.trim()));
            }
            all.add(new ExportDefinition(e.name(), e.description(), e.identity(), s, e.paths()));
        }
        return new GatewayConfig(listen, admin, adminAuth, adminTls, tls, busyPoll, transport, limits, d, all);
    }

    private static ExportDefinition inlineExport(String spec, ExportSettings settings) {
        String where = "--export '" + Drivers.redact(spec) + "'";
        int eq = spec == null ? -1 : spec.indexOf('=');
        if (eq <= 0 || eq == spec.length() - 1) {
            throw new ConfigException(where + ": expected NAME=URI[,URI...]");
        }
        String name = ConfigReader.exportName(where + " name", spec.substring(0, eq));
        List<ConfigReader.PathSpec> paths = new ArrayList<>();
        String[] uris = spec.substring(eq + 1).split(",", -1);
        for (int i = 0; i < uris.length; i++) {
            String uri = uris[i];
            if (uri.isBlank()) {
                throw new ConfigException(where + ": empty URI in the list (expected NAME=URI[,URI...])");
            }
            PathUris.check(where, uri);
            paths.add(new ConfigReader.PathSpec(where + " URI " + (i + 1), null, uri.trim(), 0,
                    AccessState.OPTIMIZED));
        }
        return new ExportDefinition(name, null, null, settings, ConfigReader.assignIds(paths));
    }

    /** The export definition with this name, or null. */
    public ExportDefinition export(String name) {
        for (ExportDefinition e : exports) {
            if (e.name().equals(name)) {
                return e;
            }
        }
        return null;
    }
}
