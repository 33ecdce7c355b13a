package io.mpathnbd.server.cli;

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

/** {@code mpath-nbd path fail|reinstate|add|remove ...}: operator actions on one path of a running gateway. */
@Command(name = "path",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {"Fail, reinstate, add or remove a path of an export.", ""},
        commandListHeading = "%nCommands:%n",
        subcommands = {PathCommand.Fail.class, PathCommand.Reinstate.class, PathCommand.Add.class,
                PathCommand.Remove.class})
final class PathCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing action (fail, reinstate, add, remove)");
    }

    static String describe(String export, JsonNode p) {
        String s = "path " + export + "/" + p.path("id").asText() + " " + p.path("uri").asText() + ": "
                + p.path("state").asText() + ", " + p.path("access-state").asText();
        JsonNode last = p.get("last-error");
        return last != null && !last.isNull() ? s + " (last error: " + last.asText() + ")" : s;
    }

    static void print(CommandSpec spec, String line) {
        PrintWriter out = spec.commandLine().getOut();
        out.println(line);
        out.flush();
    }

    /** The operands every action on an existing path takes; picocli fills the fields of subclasses too. */
    abstract static class OnePath implements Callable<Integer> {
        @Mixin
        AdminOption admin;
        @Parameters(index = "0", paramLabel = "EXPORT")
        String export;
        @Parameters(index = "1", paramLabel = "PATH-ID")
        String path;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            print(spec, act(admin.client()));
            return Main.EXIT_OK;
        }

        /** Asks the admin API for the action; returns the line to print. */
        abstract String act(AdminClient client);
    }

    @Command(name = "fail", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
            description = {"Stop sending I/O on a path (in-flight requests finish or fail over) until reinstated.",
                ""})
    static final class Fail extends OnePath {
        @Override
        String act(AdminClient client) {
            return describe(export, client.post(null, "api", "exports", export, "paths", path, "fail"));
        }
    }

    @Command(name = "reinstate", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
            description = {"Let a failed path reconnect and carry I/O again.", ""})
    static final class Reinstate extends OnePath {
        @Override
        String act(AdminClient client) {
            return describe(export, client.post(null, "api", "exports", export, "paths", path, "reinstate"));
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
            description = {"Add a path to an export; it connects in the background.", ""})
    static final class Add implements Callable<Integer> {
        @Mixin
        AdminOption admin;
        @Parameters(index = "0", paramLabel = "EXPORT")
        String export;
        @Parameters(index = "1", paramLabel = "URI", description = "nbd://HOST:PORT/EXPORT or file:/PATH")
        String uri;
        @Option(names = "--id", paramLabel = "ID", description = "Path id (default: the first free p0, p1, ...).")
        String id;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            ObjectNode body = AdminClient.JSON.createObjectNode().put("uri", uri);
            if (id != null) {
                body.put("id", id);
            }
            JsonNode p = admin.client().post(body, "api", "exports", export, "paths");
            print(spec, "added " + describe(export, p));
            return Main.EXIT_OK;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
            description = {"Remove a path from an export after draining its in-flight requests.", ""})
    static final class Remove extends OnePath {
        @Override
        String act(AdminClient client) {
            JsonNode p = client.delete("api", "exports", export, "paths", path);
            String note = p.hasNonNull("note") ? " (" + p.get("note").asText() + ")" : "";
            return "removed path " + export + "/" + p.path("id").asText() + note;
        }
    }
}
