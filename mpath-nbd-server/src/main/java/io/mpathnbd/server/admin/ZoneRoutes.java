package io.mpathnbd.server.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mpathnbd.core.backend.ControlResult;
import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.export.Export;
import io.mpathnbd.core.zone.Zone;
import io.mpathnbd.core.zone.ZoneAction;
import io.mpathnbd.core.zone.ZoneError;
import io.mpathnbd.core.zone.ZoneLayout;
import io.mpathnbd.server.admin.AdminApi.ApiError;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API's zone endpoints: {@code GET /api/exports/{name}/zones} (every zone), {@code POST .../zones/report}
 * (a range, optionally a count) and {@code POST .../zones/{reset|open|close|finish}} (zones from an offset, or all).
 * Offsets and lengths in bytes. A plain export, an offset that is no zone start, zones off the disk: 400, nothing
 * changed; a command the disk refuses: 409 with its zone error; no live path: 503.
 */
final class ZoneRoutes {
    private static final Logger LOG = LoggerFactory.getLogger(ZoneRoutes.class);

    private ZoneRoutes() {
    }

    static CompletableFuture<AdminResponse> handle(Export export, List<String> rest, AdminRequest req) {
        HttpMethod method = req.method();
        if (rest.isEmpty()) {
            allow(method, HttpMethod.GET);
            return report(export, 0, Long.MAX_VALUE, Integer.MAX_VALUE);
        }
        if (rest.size() == 1 && rest.get(0).equals("report")) {
            allow(method, HttpMethod.POST);
            ObjectNode body = req.hasBody() ? AdminApi.object(req, List.of("offset", "length", "count"))
                    : AdminResponse.JSON.createObjectNode();
            return report(export, number(body, "offset", 0), number(body, "length", Long.MAX_VALUE),
                    (int) Math.min(Integer.MAX_VALUE, number(body, "count", Integer.MAX_VALUE)));
        }
        if (rest.size() == 1) {
            ZoneAction action = action(rest.get(0));
            allow(method, HttpMethod.POST);
            ObjectNode body = AdminApi.object(req, List.of("offset", "count", "all"));
            boolean all = body.path("all").asBoolean(false);
            if (body.has("all") && !body.get("all").isBoolean()) {
                throw new ApiError(HttpResponseStatus.BAD_REQUEST, "field 'all' must be true or false");
            }
            if (all == body.has("offset")) {
                throw new ApiError(HttpResponseStatus.BAD_REQUEST, "give either 'offset' (and 'count') or "
                        + "'all': true");
            }
            if (all && body.has("count")) {
                throw new ApiError(HttpResponseStatus.BAD_REQUEST, "'count' does not go with 'all'");
            }
            requireZoned(export);
            long offset = number(body, "offset", 0);
            long count = number(body, "count", 1);
            if (count < 1 || count > Integer.MAX_VALUE) {
                throw new ApiError(HttpResponseStatus.BAD_REQUEST, "count " + count + " must be at least 1");
            }
            LOG.info("admin ({}): operator {} export '{}' zones {}", req.who(), action.name().toLowerCase(Locale.ROOT),
                    export.name(), all ? "(all)" : "from offset " + offset + ", count " + count);
            CompletableFuture<ControlResult<Void>> f = all ? export.zoneControl().manageAll(action)
                    : export.zoneControl().manage(action, offset, (int) count);
            return f.thenApply(r -> {
                if (!r.succeeded()) {
                    return failure(r.failure());
                }
                ObjectNode n = AdminResponse.JSON.createObjectNode();
                n.put("export", export.name());
                n.put("action", action.name().toLowerCase(Locale.ROOT));
                if (all) {
                    n.put("all", true);
                } else {
                    n.put("offset", offset);
                    n.put("count", count);
                }
                return AdminResponse.ok(n);
            });
        }
        throw new ApiError(HttpResponseStatus.NOT_FOUND, "no such resource: /api/exports/" + export.name()
                + "/zones/" + String.join("/", rest));
    }

    private static CompletableFuture<AdminResponse> report(Export export, long offset, long length, int count) {
        ZoneLayout l = requireZoned(export);
        if (offset < 0 || offset >= export.size()) {
            throw new ApiError(HttpResponseStatus.BAD_REQUEST, "offset " + offset + " is not on the disk of "
                    + export.size() + " bytes");
        }
        if (length <= 0 || count <= 0) {
            throw new ApiError(HttpResponseStatus.BAD_REQUEST, "length and count must be positive");
        }
        long len = Math.min(length, export.size() - offset);
        // a count bounds the range: the zones from the one holding offset
        long zoneStart = offset & -l.zoneSize();
        if ((long) count * l.zoneSize() < offset + len - zoneStart) {
            len = zoneStart + (long) count * l.zoneSize() - offset;
        }
        return export.zoneControl().report(offset, len).thenApply(r -> {
            if (!r.succeeded()) {
                return failure(r.failure());
            }
            ObjectNode n = layout(export, l);
            ArrayNode zones = n.putArray("zones");
            for (Zone z : r.value()) {
                zones.add(zone(z));
            }
            return AdminResponse.ok(n);
        });
    }

    /** The zoned export's summary for GET /api/exports: layout, and open zones counted from a fresh report. */
    static ObjectNode layout(Export export, ZoneLayout l) {
        ObjectNode n = AdminResponse.JSON.createObjectNode();
        n.put("export", export.name());
        n.put("model", l.model().name().toLowerCase(Locale.ROOT).replace('_', '-'));
        n.put("zone-size", l.zoneSize());
        n.put("zone-count", l.zoneCount());
        n.put("max-open", l.maxOpen());
        n.put("resets", export.zoneControl().resets());
        n.put("unaligned-write-refusals", export.zoneControl().unalignedWriteRefusals());
        return n;
    }

    static ObjectNode zone(Zone z) {
        ObjectNode n = AdminResponse.JSON.createObjectNode();
        n.put("start", z.start());
        n.put("length", z.length());
        n.put("capacity", z.capacity());
        n.put("write-pointer", z.writePointer());
        n.put("type", z.type().name().toLowerCase(Locale.ROOT).replace('_', '-'));
        n.put("type-code", z.type().zbcCode());
        n.put("condition", z.condition().name().toLowerCase(Locale.ROOT).replace('_', '-'));
        n.put("condition-code", z.condition().zbcCode());
        n.put("condition-short", z.condition().shortName());
        return n;
    }

    private static ZoneLayout requireZoned(Export export) {
        ZoneLayout l = export.zones();
        if (l == null) {
            throw new ApiError(HttpResponseStatus.BAD_REQUEST, export.ready() ? "export '" + export.name()
                    + "' is not zoned" : "export '" + export.name() + "' is not ready: no path has connected yet");
        }
        return l;
    }

    private static AdminResponse failure(Failure f) {
        HttpResponseStatus status = f.zoneError() == ZoneError.INVALID_REQUEST ? HttpResponseStatus.BAD_REQUEST
                : f.isPathError() ? HttpResponseStatus.SERVICE_UNAVAILABLE : HttpResponseStatus.CONFLICT;
        String what = f.zoneError() != null && f.zoneError() != ZoneError.INVALID_REQUEST
                ? f.zoneError().name().toLowerCase(Locale.ROOT).replace('_', ' ') + ": " : "";
        return AdminResponse.error(status, what + f.message());
    }

    private static ZoneAction action(String name) {
        for (ZoneAction a : ZoneAction.values()) {
            if (a.name().toLowerCase(Locale.ROOT).equals(name)) {
                return a;
            }
        }
        throw new ApiError(HttpResponseStatus.NOT_FOUND, "no zone action '" + name + "' (report, reset, open, "
                + "close, finish)");
    }

    private static long number(ObjectNode n, String field, long dflt) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
            throw new ApiError(HttpResponseStatus.BAD_REQUEST, "field '" + field + "' must be a whole number of at "
                    + "least 0");
        }
        return v.asLong();
    }

    private static void allow(HttpMethod method, HttpMethod allowed) {
        if (!allowed.equals(method)) {
            throw new ApiError(HttpResponseStatus.METHOD_NOT_ALLOWED, "method " + method.name() + " not allowed here"
                    + " (allowed: " + allowed.name() + ")");
        }
    }
}
