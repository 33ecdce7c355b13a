package io.mpathnbd.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import io.mpathnbd.core.backend.Drivers;
import io.mpathnbd.core.backend.TransportOptions;
import io.mpathnbd.core.export.ExportConfig;
import io.mpathnbd.core.export.FailbackMode;
import io.mpathnbd.core.backend.AccessState;
import io.mpathnbd.server.frontend.FrontendLimits;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** Turns a parsed YAML tree into a validated {@link GatewayConfig}; every failure names its key path. */
final class ConfigReader {
    static final List<String> ROOT_KEYS = List.of("listen", TlsSettings.KEY, "admin", AdminAuth.KEY, AdminTls.KEY,
            "busy-poll", "transport", "limits", "defaults", IscsiSection.KEY, BackendTlsSection.KEY, "exports");
    static final List<String> LIMIT_KEYS = List.of("max-payload", "max-option-length", "max-options",
            "handshake-timeout", "idle-timeout", "max-connections", "attach-wait", "payload-timeout",
            "max-connections-per-address");
    static final List<String> PATH_KEYS = List.of("uri", "id", "distance", "access-state", BackendTlsSection.KEY);
    static final List<String> ACCESS_STATES = List.of("optimized", "non-optimized", "standby", "unavailable",
            "offline");
    static final List<String> FAILBACK_MODES = List.of("immediate", "manual");

    static final List<String> EXPORT_KEYS;
    /** The keys of {@code defaults:}: the export settings and the access keys. */
    static final List<String> DEFAULTS_KEYS;
    private static final Pattern PATH_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final int MAX_NAME_BYTES = 4096;

    static {
        List<String> keys = new ArrayList<>(List.of("name", "description", "identity", "paths", IscsiSection.KEY,
                BackendTlsSection.KEY));
        keys.addAll(ExportSettings.KEYS);
        keys.addAll(AccessSection.KEYS);
        EXPORT_KEYS = List.copyOf(keys);
        List<String> defaults = new ArrayList<>(ExportSettings.KEYS);
        defaults.addAll(AccessSection.KEYS);
        DEFAULTS_KEYS = List.copyOf(defaults);
    }

    private ConfigReader() {
    }

    static GatewayConfig read(JsonNode root) {
        if (root == null || root.isMissingNode() || root.isNull()) {
            throw new ConfigException("the config is empty: it needs at least 'exports' (a list of exports with paths)");
        }
        Section s = Section.of(root, "");
        rootKeys(s);
        HostPort listen = HostPort.parse("listen", s.string("listen", GatewayConfig.DEFAULT_LISTEN));
        HostPort admin = HostPort.parse("admin", s.string("admin", GatewayConfig.DEFAULT_ADMIN));
        AdminAuth adminAuth = AdminAuth.read(s);
        AdminTls adminTls = AdminTls.read(s);
        TlsSettings tls = TlsSettings.read(s);
        Duration busyPoll = s.fineDuration("busy-poll", GatewayConfig.DEFAULT_BUSY_POLL, GatewayConfig.MAX_BUSY_POLL);
        IoTransport transport = IoTransport.of(s.choice("transport", "auto", IoTransport.LABELS));
        FrontendLimits limits = s.has("limits") ? limits(Section.of(s.raw("limits"), "limits"))
                : FrontendLimits.defaults();
        ExportSettings defaults = ExportSettings.defaults();
        if (s.has("defaults")) {
            Section d = Section.of(s.raw("defaults"), "defaults");
            defaults = settings(d, defaults, DEFAULTS_KEYS);
            defaults = defaults.withAccess(AccessSection.read(d, defaults.access(), null));
        }
        defaults = defaults.withTransport(BackendTlsSection.read(s, IscsiSection.read(s, defaults.transport())));
        if (!s.has("exports")) {
            throw new ConfigException("exports: missing (at least one export with at least one path is required)");
        }
        List<Section.Element> elements = s.list("exports");
        if (elements.isEmpty()) {
            throw new ConfigException("exports: empty (at least one export with at least one path is required)");
        }
        List<ExportDefinition> exports = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (Section.Element e : elements) {
            ExportDefinition def = export(Section.of(e.node(), e.path()), defaults);
            if (!names.add(def.name())) {
                throw new ConfigException(e.path() + ".name: duplicate export name '" + def.name() + "'");
            }
            tls.checkExport(def.name(), def.access().tlsRequired(), def.access().certificateRequired());
            exports.add(def);
        }
        return new GatewayConfig(listen, admin, adminAuth, adminTls, tls, busyPoll, transport, limits, defaults,
                exports);
    }

    private static void rootKeys(Section s) {
        for (String key : DEFAULTS_KEYS) {
            if (s.has(key)) {
                throw new ConfigException("unknown key '" + key + "' at the top level (it belongs under 'defaults:'"
                        + " or in an export)");
            }
        }
        s.allowOnly(ROOT_KEYS);
    }

    static FrontendLimits limits(Section s) {
        s.allowOnly(LIMIT_KEYS);
        FrontendLimits d = FrontendLimits.defaults();
        return new FrontendLimits(
                s.size("max-payload", d.maxPayload(), 4096, 128 << 20),
                s.size("max-option-length", d.maxOptionLength(), 1024, 16 << 20),
                s.integer("max-options", d.maxOptions(), 1, 100_000),
                s.duration("handshake-timeout", d.handshakeTimeout(), Duration.ofMillis(1)),
                s.duration("idle-timeout", d.idleTimeout(), Duration.ZERO),
                s.integer("max-connections", d.maxConnections(), 1, 1_000_000),
                s.duration("attach-wait", d.attachWait(), Duration.ZERO),
                s.duration("payload-timeout", d.payloadTimeout(), Duration.ZERO),
                s.integer("max-connections-per-address", d.maxConnectionsPerAddress(), 0, 1_000_000));
    }

    /** Reads the settings keys of {@code s} over {@code base}; {@code allowed} is the section's full key set. */
    static ExportSettings settings(Section s, ExportSettings base, List<String> allowed) {
        if (s.has("busy-poll")) {
            throw new ConfigException("unknown key 'busy-poll' at " + s.path() + " (it is a setting of the whole"
                    + " gateway: put it at the top level)");
        }
        s.allowOnly(allowed);
        Duration reconnectMin = s.duration("reconnect-min", base.reconnectMin(), Duration.ofMillis(1));
        Duration reconnectMax = s.duration("reconnect-max", base.reconnectMax(), Duration.ofMillis(1));
        if (reconnectMin.compareTo(reconnectMax) > 0) {
            String where = s.has("reconnect-min") ? s.where("reconnect-min") : s.where("reconnect-max");
            throw new ConfigException(where + ": reconnect-min (" + Units.format(reconnectMin)
                    + ") must not exceed reconnect-max (" + Units.format(reconnectMax) + ")");
        }
        String failback = s.choice("failback", base.failback().name().toLowerCase(Locale.ROOT), FAILBACK_MODES);
        ExportConfig multipath = new ExportConfig(null, null,
                s.choice("iopolicy", base.ioPolicy(), ExportSettings.IO_POLICIES),
                s.duration("no-path-timeout", base.noPathTimeout(), Duration.ZERO),
                s.bool("queue-if-no-path", base.queueIfNoPath()),
                s.integer("max-retries", base.maxRetries(), 0, 1000),
                s.duration("fence-delay", base.fenceDelay(), Duration.ZERO),
                s.duration("removal-delay", base.removalDelay(), Duration.ZERO),
                FailbackMode.valueOf(failback.toUpperCase(Locale.ROOT)),
                reconnectMin,
                reconnectMax,
                s.duration("probe-interval", base.probeInterval(), Duration.ofMillis(1)),
                s.duration("retry-delay", base.retryDelay(), Duration.ZERO),
                null,
                s.bool("trim-resets-zones", base.multipath().trimResetsZones()));
        return new ExportSettings(multipath,
                s.duration("io-timeout", base.ioTimeout(), Duration.ofMillis(1)),
                s.duration("connect-timeout", base.connectTimeout(), Duration.ofMillis(1)),
                s.integer("connections", base.connections(), 0, 64),
                base.transport(),
                base.access(),
                ReservationKeySetting.read(s, base.reservationKey()),
                s.choice("fence", base.fenceByReservation() ? "reservation" : "delay", ExportSettings.FENCE_MODES)
                        .equals("reservation"));
    }

    private static ExportDefinition export(Section s, ExportSettings defaults) {
        ExportSettings settings = settings(s, defaults, EXPORT_KEYS);
        settings = settings.withTransport(BackendTlsSection.read(s, IscsiSection.read(s, settings.transport())));
        if (!s.has("name")) {
            throw new ConfigException(s.where("name") + ": missing (every export needs a name)");
        }
        String name = exportName(s.where("name"), s.string("name", null));
        String description = s.string("description", null);
        String identity = s.string("identity", null);
        settings = settings.withAccess(AccessSection.read(s, settings.access(), name));
        if (settings.fenceByReservation() && !settings.reservationKey().present()) {
            throw new ConfigException((s.has("fence") ? s.where("fence") : "export '" + name + "'") + ": fence:"
                    + " reservation needs a reservation key (reservation-key or reservation-key-file), to"
                    + " preempt a hung path's registration with");
        }
        if (!s.has("paths")) {
            throw new ConfigException(s.where("paths") + ": missing (an export needs at least one path)");
        }
        List<Section.Element> elements = s.list("paths");
        if (elements.isEmpty()) {
            throw new ConfigException(s.where("paths") + ": empty (an export needs at least one path)");
        }
        List<PathSpec> specs = new ArrayList<>();
        for (Section.Element e : elements) {
            specs.add(pathSpec(e));
        }
        return new ExportDefinition(name, description, identity, settings, assignIds(specs));
    }

    /** A path as read, before ids are assigned; {@code transport} holds only the path's own overrides. */
    record PathSpec(String where, String id, String uri, int distance, AccessState accessState,
            TransportOptions transport) {
        PathSpec(String where, String id, String uri, int distance, AccessState accessState) {
            this(where, id, uri, distance, accessState, TransportOptions.EMPTY);
        }
    }

    private static PathSpec pathSpec(Section.Element e) {
        JsonNode n = e.node();
        if (n != null && n.isValueNode() && !n.isNull()) {
            String uri = Section.scalar(e.path(), n);
            PathUris.check(e.path(), uri);
            return new PathSpec(e.path(), null, uri.trim(), 0, AccessState.OPTIMIZED);
        }
        if (n == null || !n.isObject()) {
            throw new ConfigException(e.path() + ": expected a path URI or a mapping with 'uri', got "
                    + Section.describe(n));
        }
        Section s = Section.of(n, e.path());
        s.allowOnly(PATH_KEYS);
        if (!s.has("uri")) {
            throw new ConfigException(s.where("uri") + ": missing (every path needs a URI)");
        }
        String uri = s.string("uri", null);
        PathUris.check(s.where("uri"), uri);
        String id = s.string("id", null);
        if (id != null) {
            pathId(s.where("id"), id);
        }
        int distance = s.integer("distance", 0, 0, 1_000_000);
        String access = s.choice("access-state", "optimized", ACCESS_STATES);
        AccessState state = AccessState.valueOf(access.toUpperCase(Locale.ROOT).replace('-', '_'));
        return new PathSpec(e.path(), id, uri.trim(), distance, state,
                BackendTlsSection.read(s, TransportOptions.EMPTY));
    }

    /** Keeps configured ids (rejecting duplicates) and gives the others p0, p1, ... by position, skipping taken ones. */
    static List<PathDefinition> assignIds(List<PathSpec> specs) {
        Set<String> taken = new HashSet<>();
        for (PathSpec p : specs) {
            if (p.id() != null && !taken.add(p.id())) {
                throw new ConfigException(p.where() + ".id: duplicate path id '" + p.id() + "'");
            }
        }
        Map<String, String> seen = new LinkedHashMap<>();
        for (PathSpec p : specs) {
            PathUris.checkDistinct(p.where(), p.uri(), seen);
            seen.put(p.uri(), p.where());
        }
        List<PathDefinition> out = new ArrayList<>();
        int next = 0;
        for (int i = 0; i < specs.size(); i++) {
            PathSpec p = specs.get(i);
            String id = p.id();
            if (id == null) {
                next = Math.max(next, i);
                while (taken.contains("p" + next)) {
                    next++;
                }
                id = "p" + next;
                taken.add(id);
            }
            out.add(new PathDefinition(id, p.uri(), p.distance(), p.accessState(), p.transport()));
        }
        return out;
    }

    static String exportName(String where, String name) {
        if (name == null || name.isEmpty()) {
            throw new ConfigException(where + ": empty (an export needs a name clients can ask for)");
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
            throw new ConfigException(where + ": longer than " + MAX_NAME_BYTES + " bytes (the NBD limit)");
        }
        if (name.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new ConfigException(where + ": '" + name + "' contains control characters");
        }
        if (!name.equals(name.trim())) {
            throw new ConfigException(where + ": '" + name + "' starts or ends with blanks");
        }
        return name;
    }

    static String pathId(String where, String id) {
        if (!PATH_ID.matcher(id).matches()) {
            throw new ConfigException(where + ": '" + id + "' is not a valid path id (letters, digits, '.', '_', '-';"
                    + " at most 64, starting with a letter or digit)");
        }
        return id;
    }

    static String redact(String text) {
        return Drivers.redact(text);
    }
}
