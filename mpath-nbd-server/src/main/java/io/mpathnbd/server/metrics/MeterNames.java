package io.mpathnbd.server.metrics;

/**
 * Meter names in Micrometer's dotted form; the Prometheus names add '_' and unit/_total suffixes
 * (e.g. {@code mpath.path.requests} is scraped as {@code mpath_path_requests_total}).
 */
public final class MeterNames {
    public static final String PATH_REQUESTS = "mpath.path.requests";
    public static final String PATH_REQUEST_LATENCY = "mpath.path.request";
    public static final String PATH_INFLIGHT = "mpath.path.inflight";
    public static final String PATH_STATE = "mpath.path.state";
    public static final String PATH_ACCESS_STATE = "mpath.path.access.state";
    public static final String PATH_ERRORS = "mpath.path.errors";
    public static final String PATH_READ_BYTES = "mpath.path.read";
    public static final String PATH_WRITTEN_BYTES = "mpath.path.written";

    public static final String EXPORT_FAILOVERS = "mpath.export.failovers";
    public static final String EXPORT_REQUEUES = "mpath.export.requeues";
    public static final String EXPORT_HELD_NOW = "mpath.export.held.requests";
    public static final String EXPORT_HELD = "mpath.export.held";
    public static final String EXPORT_READY = "mpath.export.ready";
    public static final String EXPORT_CLIENTS = "mpath.export.clients";
    public static final String EXPORT_PATH_FAILURES = "mpath.export.path.failures";
    public static final String EXPORT_USABLE_PATHS = "mpath.export.usable.paths";
    public static final String EXPORT_ZONE_RESETS = "mpath.export.zone.resets";
    public static final String EXPORT_UNALIGNED_WRITE_REFUSALS = "mpath.export.unaligned.write.refusals";
    public static final String EXPORT_ACCESS_REFUSED = "mpath.export.access.refused";
    public static final String EXPORT_RESERVATION_CONFLICTS = "mpath.export.reservation.conflicts";
    public static final String EXPORT_RESERVATION_FENCES = "mpath.export.reservation.fences";
    public static final String EXPORT_RESERVATION_FENCE_FALLBACKS = "mpath.export.reservation.fence.fallbacks";

    public static final String CLIENT_CONNECTIONS_NOW = "mpath.client.connections";
    public static final String CLIENT_CONNECTIONS = "mpath.client.connections.accepted";
    public static final String CLIENT_PROTOCOL_ERRORS = "mpath.client.protocol.errors";
    public static final String CLIENT_TLS_HANDSHAKES = "mpath.client.tls.handshakes";
    public static final String TLS_RELOADS = "mpath.tls.reloads";

    public static final String ADMIN_UNAUTHORIZED = "mpath.admin.unauthorized";

    private MeterNames() {
    }
}
