package io.mpathnbd.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mpathnbd.core.backend.ReservationType;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mpath-nbd persist}: the part of multipath-tools' {@code mpathpersist} that Pacemaker's {@code fence_mpath}
 * runs, with its options, its output text (which the agent parses with regular expressions) and its exit codes for
 * the disk's answers, relayed to an export of a gateway through the admin API. {@code -d DEVICE} names the export
 * through the operator's mapping ({@code --map DEVICE=EXPORT}, {@code --map-file}), as nothing on the host ties a
 * device node to a gateway's export.
 */
@Command(name = "persist",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {"mpathpersist's command line for an export of the gateway (what Pacemaker's fence_mpath runs):",
                "  persist -i -k|-r|-s -d DEVICE",
                "  persist -o --register|--register-ignore [--param-rk=RK] --param-sark=SARK -d DEVICE",
                "  persist -o --reserve|--release --param-rk=RK --prout-type=TYPE -d DEVICE",
                "  persist -o --clear --param-rk=RK -d DEVICE",
                "  persist -o --preempt|--preempt-abort --param-rk=RK --param-sark=SARK --prout-type=TYPE -d DEVICE",
                "DEVICE is found in --map DEVICE=EXPORT or --map-file (the same path, or one naming the same file)."
                        + " Keys are hex, 0x optional, 8 bytes at most; TYPE is the SPC-4 number (1 write exclusive,"
                        + " 3 exclusive access, 5/6 registrants only, 7/8 all registrants).",
                "Exit codes: 0 ok, 2 usage (an unknown device too), 5 the target refused (ILLEGAL REQUEST),"
                        + " 11 reservation conflict, 15 other failure (no usable path, admin API unreachable).", ""})
final class PersistCommand implements Callable<Integer> {
    /** mpathpersist's (libmpathpersist's) exit codes for the disk's answers. */
    static final int MPATH_PR_ILLEGAL_REQ = 5;
    static final int MPATH_PR_RESERV_CONFLICT = 11;
    static final int MPATH_PR_OTHER = 15;
    private static final int ENOTSUP = 95;

    /** mpathpersist's names of the types, by SPC-4 code, as it prints them after {@code type = }. */
    private static final String[] TYPE_NAMES = {"obsolete [0]", "Write Exclusive", "obsolete [2]",
        "Exclusive Access", "obsolete [4]", "Write Exclusive, registrants only", "Exclusive Access, registrants only",
        "Write Exclusive, all registrants", "Exclusive Access, all registrants"};

    @Mixin
    AdminOption admin;

    @Option(names = {"-i", "--in"}, description = "PERSISTENT RESERVE IN (a read).")
    boolean in;
    @Option(names = {"-o", "--out"}, description = "PERSISTENT RESERVE OUT (a command).")
    boolean out;
    @Option(names = {"-k", "--read-keys"}, description = "-i: the registered keys.")
    boolean readKeys;
    @Option(names = {"-r", "--read-reservation"}, description = "-i: the reservation held.")
    boolean readReservation;
    @Option(names = {"-s", "--read-status", "--read-full-status"}, description = "-i: READ FULL STATUS.")
    boolean readFullStatus;
    @Option(names = {"-G", "--register"}, description = "-o: REGISTER SARK on every path (SARK 0: unregister).")
    boolean register;
    @Option(names = {"-I", "--register-ignore"}, description = "-o: REGISTER AND IGNORE EXISTING KEY.")
    boolean registerIgnore;
    @Option(names = {"-R", "--reserve"}, description = "-o: RESERVE with RK.")
    boolean reserve;
    @Option(names = {"-L", "--release"}, description = "-o: RELEASE of RK's reservation.")
    boolean release;
    @Option(names = {"-C", "--clear"}, description = "-o: CLEAR every registration and the reservation.")
    boolean clear;
    @Option(names = {"-P", "--preempt"}, description = "-o: PREEMPT SARK's registrations.")
    boolean preempt;
    @Option(names = {"-A", "--preempt-abort"}, description = "-o: PREEMPT AND ABORT; where the target has none"
            + " (tgt), PREEMPT, with a note: the victim's queued commands are then not aborted.")
    boolean preemptAbort;
    @Option(names = {"-K", "--param-rk"}, paramLabel = "RK", description = "Our reservation key.")
    String rk;
    @Option(names = {"-S", "--param-sark"}, paramLabel = "SARK", description = "The service action key.")
    String sark;
    @Option(names = {"-T", "--prout-type"}, paramLabel = "TYPE", description = "Reservation type (SPC-4 number).")
    String proutType;
    @Option(names = {"-d", "--device"}, paramLabel = "DEVICE", description = "The device, found in the mapping.")
    String device;
    @Option(names = "--map", paramLabel = "DEVICE=EXPORT",
            description = "Maps a device path to an export of the gateway (repeatable).")
    List<String> maps = new ArrayList<>();
    @Option(names = "--map-file", paramLabel = "FILE",
            description = "File of 'DEVICE EXPORT' lines ('#' starts a comment).")
    String mapFile;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (in == out) {
            throw CliException.usage("persist: give one of -i (--in) or -o (--out)");
        }
        if (device == null) {
            throw CliException.usage("persist: give the device: -d DEVICE");
        }
        String export = export(device);
        return in ? read(export) : command(export);
    }

    // ---------------------------------------------------------------- -d DEVICE

    /** The export {@code dev} is mapped to; a usage error naming the device when none is. */
    String export(String dev) {
        Map<String, String> map = mapping();
        String exact = map.get(dev);
        if (exact != null) {
            return exact;
        }
        Path given = Path.of(dev);
        for (Map.Entry<String, String> e : map.entrySet()) {
            try {
                if (Files.isSameFile(given, Path.of(e.getKey()))) {
                    return e.getValue();
                }
            } catch (IOException notThere) {
                // either is missing: not the same device
            }
        }
        throw CliException.usage("persist: device '" + dev + "' is not mapped to an export of the gateway ("
                + (map.isEmpty() ? "no mapping given" : "mapped: " + String.join(", ", map.keySet()))
                + "); give --map DEVICE=EXPORT or --map-file FILE");
    }

    private Map<String, String> mapping() {
        Map<String, String> map = new LinkedHashMap<>();
        if (mapFile != null) {
            List<String> lines;
            try {
                lines = Files.readAllLines(Path.of(mapFile), StandardCharsets.UTF_8);
            } catch (NoSuchFileException e) {
                throw CliException.usage("persist: --map-file " + mapFile + " does not exist");
            } catch (IOException e) {
                throw CliException.usage("persist: cannot read --map-file " + mapFile + ": " + e.getMessage());
            }
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).replaceFirst("#.*", "").strip();
                if (line.isEmpty()) {
                    continue;
                }
                String[] f = line.split("\\s+");
                if (f.length != 2) {
                    throw CliException.usage("persist: --map-file " + mapFile + " line " + (i + 1)
                            + ": expected 'DEVICE EXPORT', got '" + line + "'");
                }
                map.put(f[0], f[1]);
            }
        }
        for (String m : maps) {
            int eq = m.indexOf('=');
            if (eq <= 0 || eq == m.length() - 1) {
                throw CliException.usage("persist: --map expects DEVICE=EXPORT, got '" + m + "'");
            }
            map.put(m.substring(0, eq), m.substring(eq + 1));
        }
        return map;
    }

    // ---------------------------------------------------------------- -i

    private int read(String export) {
        int reads = (readKeys ? 1 : 0) + (readReservation ? 1 : 0) + (readFullStatus ? 1 : 0);
        if (reads != 1) {
            throw CliException.usage("persist: -i needs one of -k (--read-keys), -r (--read-reservation) or -s"
                    + " (--read-status)");
        }
        if (outActions() > 0 || rk != null || sark != null || proutType != null) {
            throw CliException.usage("persist: -i takes no PROUT option (--register, --param-rk, --prout-type...)");
        }
        String[] base = {"api", "exports", export, "reservation"};
        PrintWriter w = spec.commandLine().getOut();
        if (readKeys) {
            w.print(formatKeys(call(() -> admin.client().get(append(base, "keys")))));
        } else if (readReservation) {
            w.print(formatReservation(call(() -> admin.client().get(base))));
        } else {
            w.print(formatFullStatus(call(() -> admin.client().get(append(base, "full-status")))));
        }
        w.flush();
        return Main.EXIT_OK;
    }

    /** mpathpersist's {@code -i -k} output (its {@code mpath_print_buf_readkeys}). */
    static String formatKeys(JsonNode a) {
        StringBuilder sb = new StringBuilder("  PR generation=0x" + Long.toHexString(a.path("generation").asLong())
                + ", ");
        JsonNode keys = a.path("keys");
        int n = keys.size();
        if (n == 0) {
            return sb.append("\t0 registered reservation key.\n").toString();
        }
        sb.append(n == 1 ? "\t1 registered reservation key follows:\n"
                : "\t" + n + " registered reservation keys follow:\n");
        keys.forEach(k -> sb.append("    0x").append(Long.toHexString(hexKey(k.asText()))).append('\n'));
        return sb.toString();
    }

    /** mpathpersist's {@code -i -r} output (its {@code mpath_print_buf_readresv}). */
    static String formatReservation(JsonNode a) {
        String gen = "  PR generation=0x" + Long.toHexString(a.path("generation").asLong()) + ", ";
        if (!a.path("reserved").asBoolean()) {
            return gen + "there is NO reservation held \n";
        }
        ReservationType t = ReservationType.ofLabel(a.path("type").asText());
        return gen + "Reservation follows:\n   Key = 0x" + Long.toHexString(hexKey(a.path("key").asText())) + "\n"
                + "  scope = LU_SCOPE, type = " + (t == null ? a.path("type").asText() : TYPE_NAMES[t.spcCode()])
                + "\n";
    }

    /** {@code -i -s}: one line per registration, in the spirit of mpathpersist's (the agent does not use it). */
    static String formatFullStatus(JsonNode a) {
        StringBuilder sb = new StringBuilder("  PR generation=0x" + Long.toHexString(a.path("generation").asLong())
                + " \n");
        a.path("registrants").forEach(r -> {
            sb.append("    Key = 0x").append(Long.toHexString(hexKey(r.path("key").asText()))).append('\n');
            if (r.path("all-target-ports").asBoolean()) {
                sb.append("      All target ports bit set\n");
            } else {
                sb.append("      All target ports bit clear\n      Relative port address: 0x")
                        .append(Integer.toHexString(r.path("relative-target-port").asInt())).append('\n');
            }
            if (r.path("holder").asBoolean()) {
                ReservationType t = ReservationType.ofLabel(r.path("type").asText());
                sb.append("      << Reservation holder >>\n      scope: LU_SCOPE, type: ")
                        .append(t == null ? r.path("type").asText() : TYPE_NAMES[t.spcCode()]).append('\n');
            } else {
                sb.append("      not reservation holder\n");
            }
            sb.append("      Transport Id of initiator:\n        iSCSI name and session id: ")
                    .append(r.path("initiator").asText()).append('\n');
        });
        return sb.toString();
    }

    // ---------------------------------------------------------------- -o

    private int outActions() {
        int n = 0;
        for (boolean b : new boolean[] {register, registerIgnore, reserve, release, clear, preempt, preemptAbort}) {
            n += b ? 1 : 0;
        }
        return n;
    }

    private int command(String export) {
        if (outActions() != 1) {
            throw CliException.usage("persist: -o needs one of --register, --register-ignore, --reserve, --release,"
                    + " --clear, --preempt or --preempt-abort");
        }
        if (readKeys || readReservation || readFullStatus) {
            throw CliException.usage("persist: -o takes no PRIN option (-k, -r, -s)");
        }
        Long ourKey = rk == null ? null : key("--param-rk", rk);
        Long saKey = sark == null ? null : key("--param-sark", sark);
        ReservationType type = proutType == null ? null : type(proutType);
        String[] base = {"api", "exports", export, "reservation"};
        ObjectNode body = AdminClient.JSON.createObjectNode();
        String action;
        if (register || registerIgnore) {
            if (saKey == null) {
                throw CliException.usage("persist: -o " + (register ? "--register" : "--register-ignore")
                        + " needs --param-sark=KEY (0 unregisters)");
            }
            if (register && ourKey != null && ourKey != 0) {
                checkOurKey(export, ourKey);
            }
            if (saKey == 0) {
                action = "unregister";
                body = null;
            } else {
                action = "register";
                body.put("key", keyText(saKey));
            }
        } else if (reserve || release) {
            String what = reserve ? "--reserve" : "--release";
            requireRk(what, ourKey);
            if (type == null) {
                throw CliException.usage("persist: -o " + what + " needs --prout-type=TYPE (1, 3, 5, 6, 7 or 8)");
            }
            checkOurKey(export, ourKey);
            if (reserve) {
                action = "reserve";
                body.put("type", type.label());
            } else {
                action = "release";
                body = null;
            }
        } else if (clear) {
            requireRk("--clear", ourKey);
            checkOurKey(export, ourKey);
            action = "clear";
            body = null;
        } else {
            String what = preempt ? "--preempt" : "--preempt-abort";
            requireRk(what, ourKey);
            if (saKey == null || saKey == 0) {
                throw CliException.usage("persist: -o " + what + " needs --param-sark=KEY, the key to preempt");
            }
            checkOurKey(export, ourKey);
            action = "preempt";
            body.put("key", keyText(saKey));
            if (type != null) {
                body.put("type", type.label());
            }
            body.put("abort", preemptAbort);
            if (preemptAbort) {
                body.put("abort-fallback", true);
            }
        }
        ObjectNode b = body;
        JsonNode answer = call(() -> admin.client().post(b, append(base, action)));
        if (answer != null && answer.hasNonNull("note")) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("mpath-nbd persist: " + export + ": " + answer.path("note").asText());
            err.flush();
        }
        return Main.EXIT_OK;
    }

    private static void requireRk(String what, Long ourKey) {
        if (ourKey == null || ourKey == 0) {
            throw CliException.usage("persist: -o " + what + " needs --param-rk=KEY, our registered key");
        }
    }

    /**
     * The gateway acts with the key the export has registered. An RK that is not it would meet RESERVATION
     * CONFLICT on the disk, so it does here, before anything is sent. A key from a reservation-key-file is not shown
     * by the admin API and cannot be compared: the gateway's own key is used.
     */
    private void checkOurKey(String export, long ourKey) {
        JsonNode e = call(() -> admin.client().get("api", "exports", export));
        String shown = e == null ? null : e.path("reservation").path("key").asText(null);
        if (shown == null) {
            throw new CliException("persist: export '" + export + "' has no key registered (register one first:"
                    + " persist -o --register --param-sark=KEY)", null, MPATH_PR_RESERV_CONFLICT);
        }
        if (shown.startsWith("0x") && hexKey(shown) != ourKey) {
            throw new CliException("persist: --param-rk 0x" + Long.toHexString(ourKey) + " is not the key export '"
                    + export + "' has registered (0x" + Long.toHexString(hexKey(shown)) + "): reservation conflict",
                    null, MPATH_PR_RESERV_CONFLICT);
        }
    }

    // ---------------------------------------------------------------- input and errors

    /** A key as mpathpersist reads it ({@code %SCNx64}): hex digits, {@code 0x} optional, 8 bytes at most. */
    static long key(String option, String text) {
        String t = text.strip();
        String hex = t.startsWith("0x") || t.startsWith("0X") ? t.substring(2) : t;
        if (hex.isEmpty() || hex.length() > 16 || !hex.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
            throw CliException.usage("persist: " + option + " '" + text + "' is not a reservation key: 1 to 16 hex"
                    + " digits (8 bytes), 0x optional");
        }
        return Long.parseUnsignedLong(hex, 16);
    }

    private static long hexKey(String text) {
        return Long.parseUnsignedLong(text.startsWith("0x") ? text.substring(2) : text, 16);
    }

    private static String keyText(long key) {
        return String.format(Locale.ROOT, "0x%016x", key);
    }

    private static ReservationType type(String text) {
        try {
            return ReservationType.ofSpcCode(Integer.parseInt(text.strip()));
        } catch (IllegalArgumentException e) {
            throw CliException.usage("persist: --prout-type '" + text + "' is not a reservation type (1 write"
                    + " exclusive, 3 exclusive access, 5 write exclusive registrants only, 6 exclusive access"
                    + " registrants only, 7 write exclusive all registrants, 8 exclusive access all registrants)");
        }
    }

    /** An admin API call; its failures exit with mpathpersist's codes for what the disk said. */
    private static JsonNode call(java.util.function.Supplier<JsonNode> c) {
        try {
            return c.get();
        } catch (AdminClient.ApiException e) {
            JsonNode a = e.answer();
            String kind = a == null ? "" : a.path("kind").asText("");
            int code = kind.equals("reservation-conflict") ? MPATH_PR_RESERV_CONFLICT
                    : e.status() == 400 || e.status() == 404 ? Main.EXIT_USAGE
                    : kind.equals("target") && a.path("errno").asInt() == ENOTSUP ? MPATH_PR_ILLEGAL_REQ
                    : MPATH_PR_OTHER;
            throw new CliException("persist: " + e.getMessage(), null, code);
        } catch (CliException e) {
            throw e.exitCode() == Main.EXIT_USAGE ? e
                    : new CliException("persist: " + e.getMessage(), null, MPATH_PR_OTHER);
        }
    }

    private static String[] append(String[] base, String last) {
        String[] s = java.util.Arrays.copyOf(base, base.length + 1);
        s[base.length] = last;
        return s;
    }
}
