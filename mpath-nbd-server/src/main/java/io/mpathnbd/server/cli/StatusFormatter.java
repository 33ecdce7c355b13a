package io.mpathnbd.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Prints exports and paths from the admin API's JSON, in the spirit of {@code multipath -ll}. */
final class StatusFormatter {
    private StatusFormatter() {
    }

    static String format(JsonNode exports) {
        StringBuilder sb = new StringBuilder();
        if (exports == null || !exports.isArray() || exports.isEmpty()) {
            return "no exports\n";
        }
        for (JsonNode e : exports) {
            export(sb, e);
        }
        return sb.toString();
    }

    static void export(StringBuilder sb, JsonNode e) {
        boolean ready = e.path("ready").asBoolean();
        sb.append(e.path("name").asText());
        sb.append(ready ? " size=" + humanSize(e.path("size").asLong()) + " (" + e.path("size").asLong() + " bytes)"
                : " size=? (not ready: no path has connected yet)");
        sb.append(" iopolicy=").append(e.path("iopolicy").asText());
        sb.append(ready ? " ready" : " not-ready");
        if (e.path("read-only").asBoolean()) {
            sb.append(" read-only");
        }
        String health = e.path("health").asText("");
        if (ready && !health.isEmpty() && !health.equals("serving")) {
            // ready but cannot serve I/O now: say so on the first line, the reason is in the path rows
            sb.append(" ").append(health.toUpperCase(java.util.Locale.ROOT)).append(": no usable path");
        }
        sb.append('\n');
        sb.append("  failovers=").append(e.path("failovers").asLong())
                .append(" path-failures=").append(e.path("path-failures").asLong())
                .append(" requeues=").append(e.path("requeues").asLong())
                .append(" held=").append(e.path("held").asLong());
        String caps = e.path("capabilities").asText("");
        if (!caps.isEmpty()) {
            sb.append(" features='").append(caps).append('\'');
        }
        JsonNode pr = e.path("reservation");
        if (!pr.path("state").asText("none").equals("none")) {
            sb.append(" reservation-key=").append(pr.path("key").asText())
                    .append(" reservation=").append(pr.path("state").asText());
        }
        if (pr.path("conflicts").asLong() > 0) {
            sb.append(" reservation-conflicts=").append(pr.path("conflicts").asLong());
        }
        String identity = e.path("identity").asText("");
        if (!identity.isEmpty() && !"null".equals(identity)) {
            sb.append(" identity=").append(identity);
        }
        sb.append('\n');
        JsonNode z = e.get("zones");
        if (z != null && z.isObject()) {
            JsonNode open = z.get("open-zones");
            sb.append("  zoned: model=").append(z.path("model").asText())
                    .append(" zone-size=").append(humanSize(z.path("zone-size").asLong()))
                    .append(" zones=").append(z.path("zone-count").asLong())
                    .append(" open=").append(open == null || open.isNull() ? "?" : open.asText())
                    .append(" max-open=").append(z.path("max-open").asLong() == 0 ? "unlimited"
                            : z.path("max-open").asText())
                    .append(" resets=").append(z.path("resets").asLong())
                    .append(" unaligned-write-refusals=").append(z.path("unaligned-write-refusals").asLong())
                    .append('\n');
        }
        String fenced = pr.path("reason").asText("");
        if (!fenced.isEmpty() && !"null".equals(fenced)) {
            sb.append("  FENCED: ").append(fenced).append('\n');
        }
        List<String[]> rows = new ArrayList<>();
        for (JsonNode p : e.path("paths")) {
            rows.add(new String[] {
                p.path("id").asText(),
                p.path("uri").asText(),
                p.path("state").asText(),
                p.path("access-state").asText(),
                "in-flight=" + p.path("in-flight").asLong(),
                "requests=" + p.path("requests").asLong(),
                "errors=" + p.path("errors").asLong(),
            });
        }
        int[] width = new int[7];
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        int i = 0;
        for (JsonNode p : e.path("paths")) {
            String[] r = rows.get(i);
            sb.append(++i == rows.size() ? "  `- " : "  |- ");
            for (int c = 0; c < r.length; c++) {
                sb.append(c == r.length - 1 ? r[c] : pad(r[c], width[c])).append(c == r.length - 1 ? "" : "  ");
            }
            JsonNode reg = p.get("registration");
            if (reg != null && !reg.isNull() && !reg.asText().equals("registered")) {
                sb.append("  registration: ").append(reg.asText());
            }
            JsonNode last = p.get("last-error");
            if (last != null && !last.isNull() && !last.asText().isEmpty()) {
                sb.append("  last-error: ").append(last.asText());
            }
            sb.append('\n');
        }
        if (rows.isEmpty()) {
            sb.append("  (no paths)\n");
        }
    }

    private static String pad(String s, int w) {
        return s.length() >= w ? s : s + " ".repeat(w - s.length());
    }

    static String humanSize(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? bytes + "B" : String.format(Locale.ROOT, v == Math.floor(v) ? "%.0f%s" : "%.1f%s", v, units[u]);
    }
}
