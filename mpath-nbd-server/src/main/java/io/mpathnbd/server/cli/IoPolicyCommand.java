package io.mpathnbd.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code mpath-nbd iopolicy EXPORT POLICY}: switches an export's iopolicy at run time. */
@Command(name = "iopolicy",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {"Switch an export's iopolicy at run time.", ""})
final class IoPolicyCommand implements Callable<Integer> {
    @Mixin
    AdminOption admin;

    @Parameters(index = "0", paramLabel = "EXPORT", description = "The export.")
    String export;

    @Parameters(index = "1", paramLabel = "POLICY",
            description = "numa, round-robin, queue-depth or service-time.")
    String policy;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        JsonNode body = AdminClient.JSON.createObjectNode().put("iopolicy", policy);
        JsonNode answer = admin.client().put(body, "api", "exports", export, "iopolicy");
        spec.commandLine().getOut().println("export " + export + ": iopolicy " + answer.path("iopolicy").asText());
        spec.commandLine().getOut().flush();
        return Main.EXIT_OK;
    }
}
