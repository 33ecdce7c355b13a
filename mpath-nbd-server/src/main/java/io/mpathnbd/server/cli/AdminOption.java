package io.mpathnbd.server.cli;

import io.mpathnbd.server.config.AdminAuth;
import io.mpathnbd.server.config.GatewayConfig;
import picocli.CommandLine.Option;

/**
 * The options of the admin-client commands: where the admin API is, and the bearer token it may want, from
 * {@code --admin-token-file}, else {@value #TOKEN_ENV}, else the file {@value #TOKEN_FILE_ENV} names.
 */
public final class AdminOption {
    static final String TOKEN_ENV = "MPATH_ADMIN_TOKEN";
    static final String TOKEN_FILE_ENV = "MPATH_ADMIN_TOKEN_FILE";

    @Option(names = "--admin", paramLabel = "HOST:PORT", defaultValue = GatewayConfig.DEFAULT_ADMIN,
            description = "Address of the gateway's admin API (default: ${DEFAULT-VALUE}).")
    String address;

    @Option(names = "--admin-token-file", paramLabel = "FILE",
            description = "File holding the admin API's bearer token (the gateway's admin-auth token-file); "
                    + "default: the token in $" + TOKEN_ENV + ", or the file $" + TOKEN_FILE_ENV + " names.")
    String tokenFile;

    AdminClient client() {
        if (tokenFile != null) {
            return new AdminClient(address, AdminAuth.readToken("--admin-token-file", tokenFile), tokenFile);
        }
        String token = System.getenv(TOKEN_ENV);
        if (token != null && !token.isEmpty()) {
            return new AdminClient(address, AdminAuth.checkToken(TOKEN_ENV, token), "$" + TOKEN_ENV);
        }
        String file = System.getenv(TOKEN_FILE_ENV);
        if (file != null && !file.isEmpty()) {
            return new AdminClient(address, AdminAuth.readToken(TOKEN_FILE_ENV, file), file);
        }
        return new AdminClient(address, null, null);
    }
}
