package io.mpathnbd.server.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mpathnbd.core.backend.ReservationType;
import io.mpathnbd.core.reservation.ReservationKeys;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code mpath-nbd pr EXPORT ACTION [ARG]}: an export's SCSI persistent reservations through the admin API, with
 * mpathpersist's semantics (REGISTER on every usable path, RESERVE/PREEMPT/CLEAR through one, RELEASE on every
 * path). Input is checked here first: a malformed key, an unknown type or action is a usage error (exit 2) and
 * nothing is sent.
 */
@Command(name = "pr",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {"Persistent reservations of an export: read-keys, read-reservation, read-full-status,"
                + " capabilities, register KEY [--aptpl] [--all-target-ports], unregister, reserve TYPE, release,"
                + " clear, preempt KEY [--abort].",
                "KEY: 0x and 1 to 16 hex digits. TYPE: write-exclusive, exclusive-access,"
                        + " write-exclusive-registrants-only, exclusive-access-registrants-only,"
                        + " write-exclusive-all-registrants, exclusive-access-all-registrants.", ""})
final class PrCommand implements Callable<Integer> {
    static final List<String> READS = List.of("read-keys", "read-reservation", "read-full-status", "capabilities");
    static final List<String> ACTIONS = List.of("read-keys", "read-reservation", "read-full-status", "capabilities",
            "register", "unregister", "reserve", "release", "clear", "preempt");

    @Mixin
    AdminOption admin;
    @Parameters(index = "0", paramLabel = "EXPORT")
    String export;
    @Parameters(index = "1", paramLabel = "ACTION", description = "read-keys, read-reservation, read-full-status,"
            + " capabilities, register, unregister, reserve, release, clear or preempt")
    String action;
    @Parameters(index = "2", arity = "0..1", paramLabel = "KEY|TYPE",
            description = "register and preempt: a key; reserve: a type")
    String arg;
    @Option(names = "--aptpl", description = "register: persist through power loss (APTPL).")
    boolean aptpl;
    @Option(names = "--all-target-ports", description = "register: on every target port at once (ALL_TG_PT).")
    boolean allTargetPorts;
    @Option(names = "--abort", description = "preempt: PREEMPT AND ABORT (also abort the preempted commands).")
    boolean abort;
    @Option(names = "--type", paramLabel = "TYPE",
            description = "preempt: the reservation type to take over (default: the type held now).")
    String type;
    @Option(names = "--json", description = "Print the admin API's JSON instead.")
    boolean json;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Request r = request();
        AdminClient client = admin.client();
        JsonNode answer = r.body == null && READS.contains(action)
                ? client.get(r.segments()) : client.post(r.body, r.segments());
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            try {
                out.println(AdminClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(answer));
            } catch (JsonProcessingException e) {
                throw new CliException("cannot print the answer: " + e.getMessage(), e);
            }
        } else {
            out.print(format(action, answer));
        }
        out.flush();
        return Main.EXIT_OK;
    }

    private record Request(String[] segments, ObjectNode body) {
    }

    /** Checks the input and builds the admin API call; a usage error sends nothing. */
    private Request request() {
        if (!ACTIONS.contains(action)) {
            throw CliException.usage("unknown pr action '" + action + "' (actions: " + String.join(", ", ACTIONS)
                    + ")");
        }
        if (abort && !action.equals("preempt")) {
            throw CliException.usage("--abort is an option of preempt, not of " + action);
        }
        if ((aptpl || allTargetPorts) && !action.equals("register")) {
            throw CliException.usage((aptpl ? "--aptpl" : "--all-target-ports") + " is an option of register, not of "
                    + action);
        }
        if (type != null && !action.equals("preempt")) {
            throw CliException.usage("--type is an option of preempt (reserve takes the type as its argument)");
        }
        boolean needsArg = action.equals("register") || action.equals("reserve") || action.equals("preempt");
        if (needsArg && arg == null) {
            throw CliException.usage("pr " + action + " needs " + (action.equals("reserve") ? "a TYPE ("
                    + String.join(", ", ReservationType.labels()) + ")" : "a KEY (0x and 1 to 16 hex digits)"));
        }
        if (!needsArg && arg != null) {
            throw CliException.usage("pr " + action + " takes no argument, got '" + arg + "'");
        }
        String[] base = {"api", "exports", export, "reservation"};
        switch (action) {
            case "read-reservation":
                return new Request(base, null);
            case "read-keys":
                return new Request(append(base, "keys"), null);
            case "capabilities":
                return new Request(append(base, "capabilities"), null);
            case "read-full-status":
                return new Request(append(base, "full-status"), null);
            case "register": {
                ObjectNode b = body().put("key", key(arg));
                if (aptpl) {
                    b.put("aptpl", true);
                }
                if (allTargetPorts) {
                    b.put("all-target-ports", true);
                }
                return new Request(append(base, action), b);
            }
            case "reserve":
                return new Request(append(base, action), body().put("type", type(arg)));
            case "preempt": {
                ObjectNode b = body().put("key", key(arg)).put("abort", abort);
                if (type != null) {
                    b.put("type", type(type));
                }
                return new Request(append(base, action), b);
            }
            default:
                return new Request(append(base, action), null);
        }
    }

    private static ObjectNode body() {
        return AdminClient.JSON.createObjectNode();
    }

    private static String[] append(String[] base, String last) {
        String[] s = java.util.Arrays.copyOf(base, base.length + 1);
        s[base.length] = last;
        return s;
    }

    private static String key(String text) {
        try {
            return ReservationKeys.format(ReservationKeys.parse(text));
        } catch (IllegalArgumentException e) {
            throw CliException.usage(e.getMessage());
        }
    }

    private static String type(String label) {
        if (ReservationType.ofLabel(label) == null) {
            throw CliException.usage("unknown reservation type '" + label + "' (types: "
                    + String.join(", ", ReservationType.labels()) + ")");
        }
        return label;
    }

    /** Human output: what the disk said, or what the command did on each path. */
    static String format(String action, JsonNode a) {
        StringBuilder sb = new StringBuilder();
        String export = a.path("export").asText();
        switch (action) {
            case "read-keys": {
                JsonNode keys = a.path("keys");
                sb.append(export).append(": generation ").append(a.path("generation").asLong()).append(", ")
                        .append(keys.size()).append(keys.size() == 1 ? " registered key" : " registered keys")
                        .append('\n');
                keys.forEach(k -> sb.append("  ").append(k.asText()).append('\n'));
                break;
            }
            case "read-reservation":
                sb.append(export).append(": generation ").append(a.path("generation").asLong()).append(", ");
                sb.append(a.path("reserved").asBoolean() ? "reserved: key " + a.path("key").asText() + ", type "
                        + a.path("type").asText() : "no reservation").append('\n');
                break;
            case "read-full-status": {
                JsonNode all = a.path("registrants");
                sb.append(export).append(": generation ").append(a.path("generation").asLong()).append(", ")
                        .append(all.size()).append(all.size() == 1 ? " registration" : " registrations").append('\n');
                all.forEach(r -> sb.append("  ").append(r.path("key").asText()).append("  ")
                        .append(r.path("initiator").asText())
                        .append(r.path("all-target-ports").asBoolean() ? "  all target ports"
                                : "  target port " + r.path("relative-target-port").asInt())
                        .append(r.path("holder").asBoolean() ? "  holds " + r.path("type").asText() : "")
                        .append('\n'));
                break;
            }
            case "capabilities": {
                sb.append(export).append(": types");
                a.path("types").forEach(t -> sb.append(' ').append(t.asText()));
                sb.append('\n');
                for (String f : List.of("compatible-reservation-handling", "specify-initiator-ports",
                        "all-target-ports", "persist-through-power-loss")) {
                    sb.append("  ").append(f).append(": ").append(a.path(f).asBoolean() ? "yes" : "no").append('\n');
                }
                break;
            }
            default:
                sb.append(export).append(": ").append(action).append(": ").append(a.path("result").asText())
                        .append('\n');
                a.path("paths").forEach(p -> sb.append("  path ").append(p.path("id").asText()).append(": ")
                        .append(p.path("result").asText()).append('\n'));
                if (a.hasNonNull("note")) {
                    sb.append("  note: ").append(a.path("note").asText()).append('\n');
                }
        }
        return sb.toString();
    }
}
