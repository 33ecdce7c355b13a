package io.mpathnbd.server.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.backend.FailureKind;
import io.mpathnbd.core.backend.ReservationOps;
import io.mpathnbd.core.backend.ReservationType;
import io.mpathnbd.core.export.Export;
import io.mpathnbd.core.reservation.ExportReservations;
import io.mpathnbd.core.reservation.PrOutcome;
import io.mpathnbd.core.reservation.ReservationKeys;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.server.admin.AdminApi.ApiError;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /api/exports/{name}/reservation[/ACTION]}: the export's persistent reservations. Reads are GETs (the
 * reservation itself, {@code keys}, {@code capabilities}); commands are POSTs ({@code register}, {@code unregister},
 * {@code reserve}, {@code release}, {@code clear}, {@code preempt}). Bad input is 400 before anything is sent to a
 * path; the disk refusing (a conflict, an option it does not support, a path without reservations) 409; no usable
 * path 503. Every answer names the export and, for commands sent to every path, each path's result.
 */
final class ReservationApi {
    private static final Logger LOG = LoggerFactory.getLogger(AdminApi.class);
    static final List<String> READS = List.of("keys", "capabilities", "full-status");
    static final List<String> COMMANDS = List.of("register", "unregister", "reserve", "release", "clear", "preempt");

    private ReservationApi() {
    }

    static CompletableFuture<AdminResponse> handle(Export export, ExportReservations pr, String action,
            AdminRequest req) {
        if (action == null) {
            AdminApi.allow(req.method(), HttpMethod.GET);
            return reply(export, "read-reservation", pr.readReservation(), ReservationApi::status);
        }
        if (READS.contains(action)) {
            AdminApi.allow(req.method(), HttpMethod.GET);
            switch (action) {
                case "keys":
                    return reply(export, "read-keys", pr.readKeys(), ReservationApi::keys);
                case "full-status":
                    return reply(export, "read-full-status", pr.readFullStatus(), ReservationApi::fullStatus);
                default:
                    return reply(export, "capabilities", pr.capabilities(), ReservationApi::capabilities);
            }
        }
        if (!COMMANDS.contains(action)) {
            throw new ApiError(HttpResponseStatus.NOT_FOUND, "no reservation action '" + action + "' (reads: "
                    + String.join(", ", READS) + "; commands: " + String.join(", ", COMMANDS) + ")");
        }
        AdminApi.allow(req.method(), HttpMethod.POST);
        LOG.info("admin ({}): persistent reservation {} on export '{}'", req.who(), action, export.name());
        switch (action) {
            case "register": {
                ObjectNode body = AdminApi.object(req, List.of("key", "aptpl", "all-target-ports"));
                long key = key(AdminApi.text(body, "key", true));
                ReservationOps.RegisterFlags flags = new ReservationOps.RegisterFlags(flag(body, "aptpl"),
                        flag(body, "all-target-ports"));
                return reply(export, action, pr.register(key, flags), v -> null);
            }
            case "reserve": {
                ReservationType type = type(AdminApi.text(AdminApi.object(req, List.of("type")), "type", true));
                return reply(export, action, pr.reserve(type), v -> null);
            }
            case "preempt": {
                ObjectNode body = AdminApi.object(req, List.of("key", "type", "abort", "abort-fallback"));
                long victim = key(AdminApi.text(body, "key", true));
                String t = AdminApi.text(body, "type", false);
                ReservationType type = t == null ? null : type(t);
                boolean abort = flag(body, "abort");
                boolean fallback = flag(body, "abort-fallback");
                if (fallback && !abort) {
                    throw new ApiError(HttpResponseStatus.BAD_REQUEST, "'abort-fallback' goes with \"abort\": true");
                }
                CompletableFuture<PrOutcome<Void>> f = pr.preempt(victim, type, abort);
                if (fallback) {
                    f = f.thenCompose(o -> abortUnsupported(o) ? preemptInstead(export, pr, victim, type, o)
                            : CompletableFuture.completedFuture(o));
                }
                return reply(export, action, f, v -> null);
            }
            default:
                AdminApi.noBody(req);
                CompletableFuture<PrOutcome<Void>> f = action.equals("unregister") ? pr.unregister()
                        : action.equals("release") ? pr.release() : pr.clear();
                return reply(export, action, f, v -> null);
        }
    }

    /** The target refused PREEMPT AND ABORT itself (ILLEGAL REQUEST), not a conflict or a path error. */
    private static boolean abortUnsupported(PrOutcome<Void> o) {
        return !o.succeeded() && o.failure().kind() == FailureKind.TARGET && o.failure().errno() == Errno.ENOTSUP
                && !o.failure().message().contains("REPORT CAPABILITIES");
    }

    /**
     * {@code abort-fallback}: the target has no PREEMPT AND ABORT (tgt), so PREEMPT is sent instead. It removes the
     * victim's registrations and takes over its reservation just the same; what is lost is the abort of the
     * victim's commands already in the target's task set, which may still complete. Logged and said in the note.
     */
    private static CompletableFuture<PrOutcome<Void>> preemptInstead(Export export, ExportReservations pr,
            long victim, ReservationType type, PrOutcome<Void> refused) {
        LOG.warn("export '{}': {}; sending PREEMPT instead (abort-fallback): the victim's registrations are removed,"
                + " but its commands already in the target's task set are not aborted", export.name(),
                refused.failure().message());
        return pr.preempt(victim, type, false).thenApply(o -> o.succeeded()
                ? new PrOutcome<Void>(o.value(), null, o.paths(), "PREEMPT AND ABORT is unsupported by the target;"
                        + " sent PREEMPT: the victim's registrations are gone, its commands already in the target's"
                        + " task set were not aborted" + (o.note() == null ? "" : "; " + o.note()))
                : o);
    }

    private static boolean flag(ObjectNode body, String field) {
        JsonNode v = body.get(field);
        if (v != null && !v.isNull() && !v.isBoolean()) {
            throw new ApiError(HttpResponseStatus.BAD_REQUEST, "field '" + field + "' must be true or false");
        }
        return v != null && v.asBoolean(false);
    }

    static long key(String text) {
        try {
            return ReservationKeys.parse(text);
        } catch (IllegalArgumentException e) {
            throw new ApiError(HttpResponseStatus.BAD_REQUEST, e.getMessage());
        }
    }

    static ReservationType type(String label) {
        ReservationType t = ReservationType.ofLabel(label);
        if (t == null) {
            throw new ApiError(HttpResponseStatus.BAD_REQUEST, "unknown reservation type '" + label + "' (types: "
                    + String.join(", ", ReservationType.labels()) + ")");
        }
        return t;
    }

    private static <T> CompletableFuture<AdminResponse> reply(Export export, String command,
            CompletableFuture<PrOutcome<T>> f, Function<T, ObjectNode> value) {
        return f.thenApply(o -> {
            ObjectNode n = o.succeeded() && o.value() != null ? value.apply(o.value())
                    : AdminResponse.JSON.createObjectNode();
            n.put("export", export.name());
            n.put("command", command);
            if (!o.paths().isEmpty()) {
                ArrayNode paths = n.putArray("paths");
                for (PrOutcome.PathAnswer a : o.paths()) {
                    paths.addObject().put("id", a.path()).put("result", a.result());
                }
            }
            if (o.succeeded()) {
                n.put("result", "ok");
                if (o.note() != null) {
                    n.put("note", o.note());
                }
                return AdminResponse.ok(n);
            }
            n.put("error", o.failure().message());
            n.put("kind", o.failure().kind().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
            n.put("errno", o.failure().errno());
            return AdminResponse.json(status(o.failure()), n);
        });
    }

    private static HttpResponseStatus status(Failure f) {
        return f.kind() == FailureKind.PATH || f.kind() == FailureKind.TIMEOUT
                ? HttpResponseStatus.SERVICE_UNAVAILABLE : HttpResponseStatus.CONFLICT;
    }

    private static ObjectNode keys(ReservationOps.Keys k) {
        ObjectNode n = AdminResponse.JSON.createObjectNode();
        n.put("generation", k.generation());
        ArrayNode keys = n.putArray("keys");
        k.keys().forEach(key -> keys.add(ReservationKeys.format(key)));
        return n;
    }

    private static ObjectNode status(ReservationOps.Status s) {
        ObjectNode n = AdminResponse.JSON.createObjectNode();
        n.put("generation", s.generation());
        n.put("reserved", s.reserved());
        if (s.reserved()) {
            n.put("key", ReservationKeys.format(s.holder().key()));
            n.put("type", s.holder().type().label());
        }
        return n;
    }

    private static ObjectNode fullStatus(ReservationOps.FullStatus f) {
        ObjectNode n = AdminResponse.JSON.createObjectNode();
        n.put("generation", f.generation());
        ArrayNode all = n.putArray("registrants");
        for (ReservationOps.Registrant r : f.registrants()) {
            ObjectNode x = all.addObject();
            x.put("key", ReservationKeys.format(r.key()));
            x.put("holder", r.holder());
            x.put("type", r.type() == null ? null : r.type().label());
            x.put("all-target-ports", r.allTargetPorts());
            x.put("relative-target-port", r.relativeTargetPort());
            x.put("initiator", r.initiator());
        }
        return n;
    }

    private static ObjectNode capabilities(ReservationOps.Capabilities c) {
        ObjectNode n = AdminResponse.JSON.createObjectNode();
        ArrayNode types = n.putArray("types");
        for (ReservationType t : ReservationType.values()) {
            if (c.types().contains(t)) {
                types.add(t.label());
            }
        }
        n.put("compatible-reservation-handling", c.compatibleReservationHandling());
        n.put("specify-initiator-ports", c.specifyInitiatorPorts());
        n.put("all-target-ports", c.allTargetPorts());
        n.put("persist-through-power-loss", c.persistThroughPowerLoss());
        return n;
    }
}
