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
            description = "Address of the gateway's admin API (default: ${DEFAULT-VALUE}); https://HOST:PORT when "
                    + "it serves HTTPS (admin-tls).")
    String address;

    @Option(names = "--admin-ca-file", paramLabel = "FILE",
            description = "PEM file of the CA that signed the admin API's HTTPS certificate (default: the JVM's "
                    + "trusted CAs).")
    String caFile;

    @Option(names = "--admin-token-file", paramLabel = "FILE",
            description = "File holding the admin API's bearer token (the gateway's admin-auth token-file); "
                    + "default: the token in $" + TOKEN_ENV + ", or the file $" + TOKEN_FILE_ENV + " names.")
    String tokenFile;

    AdminClient client() {
        if (tokenFile != null) {
            return new AdminClient(address, AdminAuth.readToken("--admin-token-file", tokenFile), tokenFile, caFile);
        }
        String token = System.getenv(TOKEN_ENV);
        if (token != null && !token.isEmpty()) {
            return new AdminClient(address, AdminAuth.checkToken(TOKEN_ENV, token), "$" + TOKEN_ENV, caFile);
        }
        String file = System.getenv(TOKEN_FILE_ENV);
        if (file != null && !file.isEmpty()) {
            return new AdminClient(address, AdminAuth.readToken(TOKEN_FILE_ENV, file), file, caFile);
        }
        return new AdminClient(address, null, null, caFile);
    }
}
