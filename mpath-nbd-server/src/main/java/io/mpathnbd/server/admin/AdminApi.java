package io.mpathnbd.server.admin;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mpathnbd.core.export.Export;
import io.mpathnbd.core.export.ExportHealth;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.server.Gateway;
import io.mpathnbd.server.config.ConfigException;
import io.mpathnbd.server.config.ExportSettings;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API's routes and operations, independent of HTTP plumbing (and of authentication, which
 * {@link AdminAccess} decides before a request gets here). Every answer is JSON (except /metrics); unknown export or
 * path -> 404, bad input -> 400, a body that is not JSON -> 415, each as {@code {"error": "..."}}, and nothing
 * changes.
 */
final class AdminApi {
    private static final Logger LOG = LoggerFactory.getLogger(AdminApi.class);
    private static final String PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    /** Removal drains the path first; the call answers 202 if that takes longer than this. */
    private static final long REMOVE_WAIT_SECONDS = 10;

    private final Gateway gateway;

    AdminApi(Gateway gateway) {
        this.gateway = gateway;
    }

    CompletableFuture<AdminResponse> handle(AdminRequest req) {
        HttpMethod method = req.method();
        List<String> segments = req.segments();
        try {
            return route(req);
        } catch (ApiError e) {
            return done(AdminResponse.error(e.status, e.getMessage()));
        } catch (ConfigException | IllegalArgumentException e) {
            return done(AdminResponse.error(HttpResponseStatus.BAD_REQUEST, e.getMessage()));
        } catch (IllegalStateException e) {
            return done(AdminResponse.error(HttpResponseStatus.CONFLICT, e.getMessage()));
        } catch (RuntimeException e) {
            LOG.error("admin API: {} /{} failed", method, String.join("/", segments), e);
            return done(AdminResponse.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error: " + e));
        }
    }

    private CompletableFuture<AdminResponse> route(AdminRequest req) {
        HttpMethod method = req.method();
        List<String> s = req.segments();
        String who = req.who();
        int n = s.size();
        if (n == 0) {
            allow(method, HttpMethod.GET);
            return done(index());
        }
        if (n == 1 && s.get(0).equals("metrics")) {
            allow(method, HttpMethod.GET);
            return done(AdminResponse.text(PROMETHEUS_TYPE, gateway.metrics().scrape()));
        }
        if (n == 1 && s.get(0).equals("health")) {
            allow(method, HttpMethod.GET);
            return done(health(gateway.exports()));
        }
        if (n == 2 && s.get(0).equals("health")) {
            allow(method, HttpMethod.GET);
            return done(health(List.of(export(s.get(1)))));
        }
        if (n >= 2 && s.get(0).equals("api") && s.get(1).equals("exports")) {
            if (n == 2) {
                allow(method, HttpMethod.GET);
                List<CompletableFuture<ObjectNode>> views = new java.util.ArrayList<>();
                gateway.exports().forEach(e -> views.add(view(e)));
                return CompletableFuture.allOf(views.toArray(new CompletableFuture<?>[0])).thenApply(v -> {
                    ArrayNode all = AdminResponse.JSON.createArrayNode();
                    views.forEach(f -> all.add(f.join()));
                    return AdminResponse.ok(all);
                });
            }
            Export export = export(s.get(2));
            if (n == 3) {
                allow(method, HttpMethod.GET);
                return view(export).thenApply(AdminResponse::ok);
            }
            if (n >= 4 && s.get(3).equals("zones")) {
                return ZoneRoutes.handle(export, s.subList(4, n), req);
            }
            if (n == 4 && s.get(3).equals("iopolicy")) {
                allow(method, HttpMethod.PUT, HttpMethod.GET);
                return done(method.equals(HttpMethod.GET) ? iopolicyView(export) : setIoPolicy(export, req));
            }
            if ((n == 4 || n == 5) && s.get(3).equals("reservation")) {
                return ReservationApi.handle(export, gateway.reservations(export), n == 5 ? s.get(4) : null, req);
            }
            if (n == 4 && s.get(3).equals("paths")) {
                allow(method, HttpMethod.POST, HttpMethod.GET);
                if (method.equals(HttpMethod.GET)) {
                    ArrayNode all = AdminResponse.JSON.createArrayNode();
                    export.paths().forEach(p -> all.add(ExportJson.path(p, gateway.reservations(export))));
                    return done(AdminResponse.ok(all));
                }
                return done(addPath(export, req));
            }
            if (n >= 5 && s.get(3).equals("paths")) {
                Path path = path(export, s.get(4));
                if (n == 5) {
                    allow(method, HttpMethod.GET, HttpMethod.DELETE);
                    if (method.equals(HttpMethod.GET)) {
                        return done(AdminResponse.ok(ExportJson.path(path, gateway.reservations(export))));
                    }
                    noBody(req);
                    return removePath(export, path, who);
                }
                if (n == 6 && s.get(5).equals("fail")) {
                    allow(method, HttpMethod.POST);
                    noBody(req);
                    LOG.info("admin ({}): operator fails path {}/{} ({})", who, export.name(), path.id(), path.uri());
                    export.failPath(path.id());
                    return done(AdminResponse.ok(ExportJson.path(path, gateway.reservations(export))));
                }
                if (n == 6 && s.get(5).equals("reinstate")) {
                    allow(method, HttpMethod.POST);
                    noBody(req);
                    LOG.info("admin ({}): operator reinstates path {}/{} ({})", who, export.name(), path.id(),
                            path.uri());
                    export.reinstatePath(path.id());
                    return done(AdminResponse.ok(ExportJson.path(path, gateway.reservations(export))));
                }
            }
        }
        throw new ApiError(HttpResponseStatus.NOT_FOUND, "no such resource: /" + String.join("/", s)
                + " (see GET / for the endpoints)");
    }

    /**
     * An export's JSON; a zoned one's also counts its open zones, from a report through one live path (without a
     * live path, or if it fails, {@code open-zones} is null).
     */
    private CompletableFuture<ObjectNode> view(Export e) {
        ObjectNode n = ExportJson.export(e, gateway.access(e), gateway.reservations(e));
        if (!n.has("zones")) {
            return CompletableFuture.completedFuture(n);
        }
        ObjectNode z = (ObjectNode) n.get("zones");
        return e.zoneControl().report(0, e.size()).thenApply(r -> {
            if (r.succeeded()) {
                z.put("open-zones", r.value().stream().filter(zone -> zone.condition().open()).count());
            } else {
                z.putNull("open-zones");
            }
            return n;
        });
    }

    private Export export(String name) {
        Export e = gateway.export(name);
        if (e == null) {
            throw new ApiError(HttpResponseStatus.NOT_FOUND, "no export named '" + name + "'");
        }
        return e;
    }

    private static Path path(Export e, String id) {
        Path p = e.path(id);
        if (p == null) {
            throw new ApiError(HttpResponseStatus.NOT_FOUND, "export '" + e.name() + "' has no path '" + id + "'");
        }
        return p;
    }

    static void allow(HttpMethod method, HttpMethod... allowed) {
        for (HttpMethod m : allowed) {
            if (m.equals(method)) {
                return;
            }
        }
        StringBuilder sb = new StringBuilder();
        for (HttpMethod m : allowed) {
            sb.append(sb.length() == 0 ? "" : ", ").append(m.name());
        }
        throw new ApiError(HttpResponseStatus.METHOD_NOT_ALLOWED, "method " + method.name() + " not allowed here"
                + " (allowed: " + sb + ")");
    }

    private AdminResponse setIoPolicy(Export export, AdminRequest request) {
        ObjectNode req = object(request, List.of("iopolicy"));
        String policy = text(req, "iopolicy", true);
        if (!ExportSettings.IO_POLICIES.contains(policy)) {
            throw new ApiError(HttpResponseStatus.BAD_REQUEST, "unknown iopolicy '" + policy + "' (supported: "
                    + String.join(", ", ExportSettings.IO_POLICIES) + ")");
        }
        String before = export.ioPolicy();
        export.ioPolicy(policy);
        LOG.info("admin ({}): operator sets iopolicy of export '{}' from {} to {}", request.who(), export.name(),
                before, export.ioPolicy());
        return iopolicyView(export);
    }

    private static AdminResponse iopolicyView(Export export) {
        ObjectNode n = AdminResponse.JSON.createObjectNode();
        n.put("export", export.name());
        n.put("iopolicy", export.ioPolicy());
        return AdminResponse.ok(n);
    }

    private AdminResponse addPath(Export export, AdminRequest request) {
        ObjectNode req = object(request, List.of("uri", "id"));
        String uri = text(req, "uri", true);
        String id = text(req, "id", false);
        Path p = gateway.addPath(export, uri, id);
        LOG.info("admin ({}): operator adds path {}/{} ({})", request.who(), export.name(), p.id(), p.uri());
        return AdminResponse.json(HttpResponseStatus.CREATED, ExportJson.path(p, gateway.reservations(export)));
    }

    private CompletableFuture<AdminResponse> removePath(Export export, Path path, String who) {
        LOG.info("admin ({}): operator removes path {}/{} ({})", who, export.name(), path.id(), path.uri());
        ObjectNode view = ExportJson.path(path, gateway.reservations(export));
        return export.removePath(path.id())
                .thenApply(v -> {
                    view.put("state", "removed");
                    return AdminResponse.ok(view);
                })
                .completeOnTimeout(AdminResponse.json(HttpResponseStatus.ACCEPTED,
                        view.deepCopy().put("note", "removal in progress (draining)")),
                        REMOVE_WAIT_SECONDS, TimeUnit.SECONDS)
                .exceptionally(err -> AdminResponse.error(HttpResponseStatus.CONFLICT,
                        "removing path '" + path.id() + "': " + (err.getCause() == null ? err : err.getCause())
                                .getMessage()));
    }

    /** 200 when every export named can serve I/O now, else 503; each export's state and, if not serving, why. */
    private static AdminResponse health(Collection<Export> of) {
        ObjectNode n = AdminResponse.JSON.createObjectNode();
        ObjectNode exports = AdminResponse.JSON.createObjectNode();
        boolean all = true;
        for (Export e : of) {
            ExportHealth h = e.health();
            all &= h.serving();
            ObjectNode x = exports.putObject(e.name());
            x.put("state", h.state().label());
            x.put("usable-paths", h.usablePaths());
            x.put("paths", h.paths());
            if (h.reason() != null) {
                x.put("reason", h.reason());
            }
        }
        n.put("status", all ? "ok" : "unavailable");
        n.set("exports", exports);
        return AdminResponse.json(all ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, n);
    }

    private static AdminResponse index() {
        ObjectNode n = AdminResponse.JSON.createObjectNode();
        ArrayNode e = n.putArray("endpoints");
        e.add("GET /api/exports");
        e.add("GET /api/exports/{name}");
        e.add("POST /api/exports/{name}/paths/{id}/fail");
        e.add("POST /api/exports/{name}/paths/{id}/reinstate");
        e.add("POST /api/exports/{name}/paths  {\"uri\": \"...\", \"id\": \"optional\"}");
        e.add("DELETE /api/exports/{name}/paths/{id}");
        e.add("PUT /api/exports/{name}/iopolicy  {\"iopolicy\": \"round-robin\"}");
        e.add("GET /api/exports/{name}/zones");
        e.add("POST /api/exports/{name}/zones/report  {\"offset\": 0, \"length\": 1048576, \"count\": 4}");
        e.add("POST /api/exports/{name}/zones/{reset|open|close|finish}  {\"offset\": 0, \"count\": 1} or "
                + "{\"all\": true}");
        e.add("GET /api/exports/{name}/reservation");
        e.add("GET /api/exports/{name}/reservation/keys");
        e.add("GET /api/exports/{name}/reservation/capabilities");
        e.add("GET /api/exports/{name}/reservation/full-status");
        e.add("POST /api/exports/{name}/reservation/register  {\"key\": \"0x...\", \"aptpl\": false,"
                + " \"all-target-ports\": false}");
        e.add("POST /api/exports/{name}/reservation/unregister");
        e.add("POST /api/exports/{name}/reservation/reserve  {\"type\": \"write-exclusive-registrants-only\"}");
        e.add("POST /api/exports/{name}/reservation/release");
        e.add("POST /api/exports/{name}/reservation/clear");
        e.add("POST /api/exports/{name}/reservation/preempt  {\"key\": \"0x...\", \"type\": \"...\","
                + " \"abort\": false}");
        e.add("GET /metrics");
        e.add("GET /health");
        e.add("GET /health/{name}");
        return AdminResponse.ok(n);
    }

    /** An action that takes no body refuses one: what it asked for (an option?) would be silently dropped. */
    static void noBody(AdminRequest req) {
        if (req.hasBody()) {
            throw new ApiError(HttpResponseStatus.BAD_REQUEST, req.method().name() + " /"
                    + String.join("/", req.segments()) + " takes no body");
        }
    }

    /**
     * The body must be JSON: a request that says it sends something else (a form, as {@code curl -d} does) is
     * refused rather than guessed at; one without a Content-Type is read as JSON.
     */
    private static void jsonContentType(String contentType) {
        if (contentType == null) {
            return;
        }
        CharSequence type = HttpUtil.getMimeType(contentType);
        String mime = type == null ? "" : type.toString().trim();
        if (!mime.equalsIgnoreCase("application/json")) {
            throw new ApiError(HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, "Content-Type '" + contentType
                    + "' is not JSON: send Content-Type: application/json");
        }
        Charset charset = HttpUtil.getCharset(contentType, StandardCharsets.UTF_8);
        if (!charset.equals(StandardCharsets.UTF_8)) {
            throw new ApiError(HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, "charset " + charset.name()
                    + " is not supported: JSON is UTF-8");
        }
    }

    static ObjectNode object(AdminRequest req, List<String> fields) {
        byte[] body = req.body();
        if (body == null || body.length == 0) {
            throw new ApiError(HttpResponseStatus.BAD_REQUEST, "missing JSON body (expected an object with "
                    + String.join(", ", fields) + ")");
        }
        jsonContentType(req.contentType());
        JsonNode n;
        try (JsonParser p = AdminResponse.JSON.createParser(body)) {
            n = AdminResponse.JSON.readTree(p);
            // a second value after the first would be dropped unseen
            if (n != null && p.nextToken() != null) {
                throw new ApiError(HttpResponseStatus.BAD_REQUEST, "malformed JSON: more data after the object");
            }
        } catch (JsonProcessingException e) {
            throw new ApiError(HttpResponseStatus.BAD_REQUEST, "malformed JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw new ApiError(HttpResponseStatus.BAD_REQUEST, "unreadable body: " + e.getMessage());
        }
        if (n == null || !n.isObject()) {
            throw new ApiError(HttpResponseStatus.BAD_REQUEST, "expected a JSON object with "
                    + String.join(", ", fields));
        }
        Iterator<String> names = n.fieldNames();
        while (names.hasNext()) {
            String f = names.next();
            if (!fields.contains(f)) {
                throw new ApiError(HttpResponseStatus.BAD_REQUEST, "unknown field '" + f + "' (expected "
                        + String.join(", ", fields) + ")");
            }
        }
        return (ObjectNode) n;
    }

    static String text(ObjectNode n, String field, boolean required) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            if (required) {
                throw new ApiError(HttpResponseStatus.BAD_REQUEST, "missing field '" + field + "'");
            }
            return null;
        }
        if (!v.isTextual() || v.textValue().isBlank()) {
            throw new ApiError(HttpResponseStatus.BAD_REQUEST, "field '" + field + "' must be a non-empty string");
        }
        return v.textValue();
    }

    private static CompletableFuture<AdminResponse> done(AdminResponse r) {
        return CompletableFuture.completedFuture(r);
    }

    /** An answer other than 200, thrown out of the routing code. */
    static final class ApiError extends RuntimeException {
        final HttpResponseStatus status;

        ApiError(HttpResponseStatus status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }
}
