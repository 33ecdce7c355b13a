package io.mpathnbd.server.cli;

import io.mpathnbd.server.config.GatewayConfig;
import picocli.CommandLine.Option;

/** The {@code --admin HOST:PORT} option of the admin-client commands. */
public final class AdminOption {
    @Option(names = "--admin", paramLabel = "HOST:PORT", defaultValue = GatewayConfig.DEFAULT_ADMIN,
            description = "Address of the gateway's admin API (default: ${DEFAULT-VALUE}).")
    String address;

    AdminClient client() {
        return new AdminClient(address);
    }
}
