package io.mpathnbd.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code mpath-nbd status [EXPORT]}: exports, paths, states and counters of a running gateway. */
@Command(name = "status",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {"Show exports and their paths: state, access state, requests in flight, errors "
                + "(like multipath -ll).", ""})
final class StatusCommand implements Callable<Integer> {
    @Mixin
    AdminOption admin;

    @Parameters(arity = "0..1", paramLabel = "EXPORT", description = "Only this export.")
    String export;

    @Option(names = "--json", description = "Print the admin API's JSON instead.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        AdminClient client = admin.client();
        JsonNode answer = export == null ? client.get("api", "exports") : client.get("api", "exports", export);
        if (json) {
            spec.commandLine().getOut().println(AdminClient.JSON.writerWithDefaultPrettyPrinter()
                    .writeValueAsString(answer));
        } else {
            JsonNode list = answer;
            if (export != null) {
                list = AdminClient.JSON.createArrayNode().add(answer);
            }
            spec.commandLine().getOut().print(StatusFormatter.format(list));
        }
        spec.commandLine().getOut().flush();
        return Main.EXIT_OK;
    }
}
