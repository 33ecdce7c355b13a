package io.mpathnbd.server.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code mpath-nbd zone report|reset|open|close|finish EXPORT}: the zones of a zoned export, as util-linux
 * {@code blkzone} shows and manages a zoned block device; offsets and lengths in 512-byte sectors as there.
 */
@Command(name = "zone",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {"Report or manage the zones of a zoned export (like blkzone; sectors of 512 bytes).", ""},
        commandListHeading = "%nCommands:%n",
        subcommands = {ZoneCommand.Report.class, ZoneCommand.Reset.class, ZoneCommand.Open.class,
                ZoneCommand.Close.class, ZoneCommand.Finish.class})
final class ZoneCommand implements Runnable {
    static final int SECTOR = 512;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing action (report, reset, open, close, finish)");
    }

    /** What every zone action takes. */
    abstract static class ZoneAction implements Callable<Integer> {
        @Mixin
        AdminOption admin;
        @Parameters(index = "0", paramLabel = "EXPORT", description = "The zoned export.")
        String export;
        @Option(names = {"-o", "--offset"}, paramLabel = "SECTOR",
                description = "Start sector of the first zone (report: any sector in it; default 0).")
        Long offset;
        @Option(names = {"-l", "--length"}, paramLabel = "SECTORS",
                description = "Sectors to cover (management: a multiple of the zone size).")
        Long length;
        @Option(names = {"-c", "--count"}, paramLabel = "ZONES", description = "Number of zones.")
        Integer count;
        @Option(names = "--json", description = "Print the admin API's JSON instead.")
        boolean json;
        @Spec
        CommandSpec spec;

        void checkNumbers() {
            if (offset != null && offset < 0 || length != null && length <= 0 || count != null && count <= 0) {
                throw CliException.usage("-o must be at least 0, -l and -c at least 1");
            }
            if (length != null && count != null) {
                throw CliException.usage("give -l or -c, not both");
            }
        }

        void print(String text) {
            PrintWriter out = spec.commandLine().getOut();
            out.print(text);
            out.flush();
        }

        void printJson(JsonNode n) {
            try {
                print(AdminClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n");
            } catch (JsonProcessingException e) {
                throw new CliException("cannot print JSON: " + e.getMessage());
            }
        }
    }

    @Command(name = "report", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
            description = {"Print the zones from an offset: start, length, capacity and write pointer (relative to "
                + "the zone start) in sectors, condition and type, as blkzone report does.", ""})
    static final class Report extends ZoneAction {
        @Override
        public Integer call() {
            checkNumbers();
            ObjectNode body = AdminClient.JSON.createObjectNode();
            body.put("offset", (offset == null ? 0 : offset) * SECTOR);
            if (length != null) {
                body.put("length", length * SECTOR);
            }
            if (count != null) {
                body.put("count", count);
            }
            JsonNode answer = admin.client().post(body, "api", "exports", export, "zones", "report");
            if (json) {
                printJson(answer);
            } else {
                print(ZoneFormatter.report(answer));
            }
            return Main.EXIT_OK;
        }
    }

    /** A management action: zones from -o (-c of them, or -l sectors' worth), or --all. */
    abstract static class Manage extends ZoneAction {
        @Option(names = "--all", description = "Every zone the action applies to (ZBC's ALL bit).")
        boolean all;

        abstract String action();

        @Override
        public Integer call() {
            checkNumbers();
            if (all == (offset != null)) {
                throw CliException.usage("give -o SECTOR (with -c or -l for more than one zone) or --all");
            }
            if (all && (count != null || length != null)) {
                throw CliException.usage("--all takes no -c or -l");
            }
            AdminClient client = admin.client();
            ObjectNode body = AdminClient.JSON.createObjectNode();
            if (all) {
                body.put("all", true);
            } else {
                body.put("offset", offset * SECTOR);
                body.put("count", zones(client));
            }
            JsonNode answer = client.post(body, "api", "exports", export, "zones", action());
            if (json) {
                printJson(answer);
            } else {
                print(all ? "export " + export + ": " + action() + " all zones\n"
                        : "export " + export + ": " + action() + " " + answer.path("count").asLong() + " zone(s) from"
                                + " sector " + offset + "\n");
            }
            return Main.EXIT_OK;
        }

        /** -c, or -l in zones (it must be whole zones), or 1. */
        private long zones(AdminClient client) {
            if (length == null) {
                return count == null ? 1 : count;
            }
            JsonNode e = client.get("api", "exports", export);
            long zoneSize = e.path("zones").path("zone-size").asLong(0);
            if (zoneSize == 0) {
                throw new CliException("export " + export + " is not zoned");
            }
            long bytes = length * SECTOR;
            if (bytes % zoneSize != 0) {
                throw CliException.usage("-l " + length + " is not a multiple of the zone size (" + zoneSize / SECTOR
                        + " sectors)");
            }
            return bytes / zoneSize;
        }
    }

    @Command(name = "reset", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
            description = {"Reset the write pointer of zones: they become empty.", ""})
    static final class Reset extends Manage {
        @Override
        String action() {
            return "reset";
        }
    }

    @Command(name = "open", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
            description = {"Open zones explicitly.", ""})
    static final class Open extends Manage {
        @Override
        String action() {
            return "open";
        }
    }

    @Command(name = "close", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
            description = {"Close open zones.", ""})
    static final class Close extends Manage {
        @Override
        String action() {
            return "close";
        }
    }

    @Command(name = "finish", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
            description = {"Finish zones: they become full.", ""})
    static final class Finish extends Manage {
        @Override
        String action() {
            return "finish";
        }
    }
}
