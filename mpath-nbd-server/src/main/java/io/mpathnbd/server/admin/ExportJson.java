package io.mpathnbd.server.admin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mpathnbd.core.backend.BackendInfo;
import io.mpathnbd.core.backend.Capability;
import io.mpathnbd.core.export.Export;
import io.mpathnbd.core.export.ExportHealth;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.reservation.ExportReservations;
import io.mpathnbd.core.reservation.ReservationKeys;
import io.mpathnbd.core.zone.ZoneLayout;
import io.mpathnbd.server.access.AccessRule;
import io.mpathnbd.server.access.ExportAccess;

/** The admin API's JSON view of exports and paths (field names are part of the documented admin API). */
final class ExportJson {
    private ExportJson() {
    }

    static ObjectNode export(Export e, ExportAccess access, ExportReservations pr) {
        ObjectNode n = AdminResponse.JSON.createObjectNode();
        boolean ready = e.ready();
        n.put("name", e.name());
        n.put("size", ready ? e.size() : 0);
        n.put("ready", ready);
        ExportHealth health = e.health();
        n.put("health", health.state().label());
        n.put("health-reason", health.reason());
        n.put("description", e.description());
        n.put("identity", e.identity());
        n.put("iopolicy", e.ioPolicy());
        n.put("failovers", e.failovers());
        n.put("path-failures", e.pathFailures());
        n.put("requeues", e.requeues());
        n.put("held", e.held());
        n.set("reservation", reservation(e, pr));
        n.put("capabilities", ready ? Capability.describe(e.capabilities()) : "");
        // read-only for every client: configured so, or every path is
        n.put("read-only", access.readOnly() || ready && Capability.has(e.capabilities(), Capability.READ_ONLY));
        ZoneLayout zones = e.zones();
        if (zones != null) {
            ObjectNode z = ZoneRoutes.layout(e, zones);
            z.remove("export");
            n.set("zones", z);
        }
        var allow = n.putArray("allow");
        for (AccessRule r : access.allow()) {
            allow.add(r.describe());
        }
        var paths = n.putArray("paths");
        for (Path p : e.paths()) {
            paths.add(path(p, pr));
        }
        return n;
    }

    /** Our key (hidden when it came from a file), whether we are registered or fenced, and conflicts counted. */
    static ObjectNode reservation(Export e, ExportReservations pr) {
        ObjectNode r = AdminResponse.JSON.createObjectNode();
        long key = pr.key();
        r.put("key", key == 0 ? null : pr.keySecret() ? "(from reservation-key-file)" : ReservationKeys.format(key));
        r.put("state", pr.state());
        r.put("reason", pr.fencedReason());
        r.put("conflicts", e.reservationConflicts());
        return r;
    }

    static ObjectNode path(Path p, ExportReservations pr) {
        ObjectNode n = AdminResponse.JSON.createObjectNode();
        n.put("id", p.id());
        n.put("uri", p.uri());
        n.put("state", p.state().label());
        n.put("access-state", p.accessState().label());
        n.put("distance", p.distance());
        n.put("in-flight", p.inFlight());
        n.put("requests", p.requests());
        n.put("errors", p.errors());
        n.put("bytes-read", p.bytesRead());
        n.put("bytes-written", p.bytesWritten());
        n.put("last-error", p.lastError());
        // null without a key; else "registered" or why not (a path that cannot register carries no I/O)
        n.put("registration", pr.registration(p));
        // what the backend says of itself (vendor, product, serial, identity): for operators, never sent to clients
        BackendInfo info = p.info();
        n.put("description", info == null ? null : info.description());
        n.put("identity", info == null ? null : info.identity());
        return n;
    }
}
