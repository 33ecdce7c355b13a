package io.mpathnbd.server.cli;

import io.mpathnbd.server.Gateway;
import io.mpathnbd.server.config.AdminAuth;
import io.mpathnbd.server.config.GatewayConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mpath-nbd serve}: runs the gateway until it is stopped (SIGINT/SIGTERM). */
@Command(name = "serve",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {"Run the gateway: serve exports over NBD, each over several backend paths.", "",
                "Either a YAML config file (--config) or inline flags (--export ...), or both: inline flags then "
                        + "override listen/admin and add exports.", ""},
        footer = {"", "Examples:",
                "  mpath-nbd serve --config /etc/mpath-nbd.yaml",
                "  mpath-nbd serve --listen 0.0.0.0:10809 --admin 127.0.0.1:9810 \\",
                "      --export disk0=nbd://10.0.0.1:10809/disk0,nbd://10.0.0.2:10809/disk0 --iopolicy round-robin"})
final class ServeCommand implements Callable<Integer> {

    @Option(names = "--config", paramLabel = "FILE", description = "YAML configuration file.")
    Path config;

    @Option(names = "--listen", paramLabel = "HOST:PORT",
            description = "NBD listen address (default: " + GatewayConfig.DEFAULT_LISTEN + ").")
    String listen;

    @Option(names = "--admin", paramLabel = "HOST:PORT",
            description = "Admin API listen address (default: " + GatewayConfig.DEFAULT_ADMIN + ").")
    String admin;

    @Option(names = "--admin-token-file", paramLabel = "FILE",
            description = "File holding the admin API's bearer token: requests without it are refused (overrides "
                    + "admin-auth.token-file; make one with: " + AdminAuth.HOW_TO_MAKE + ").")
    String adminTokenFile;

    @Option(names = "--export", paramLabel = "NAME=URI[,URI...]",
            description = "An export and its paths (repeatable). URIs: nbd://HOST:PORT/EXPORT, "
                    + "nbds://HOST:PORT/EXPORT (TLS), file:/PATH.")
    List<String> exports;

    @Option(names = "--iopolicy", paramLabel = "POLICY",
            description = "Iopolicy of every export: numa, round-robin, queue-depth, service-time "
                    + "(default: numa, or what the config file says).")
    String iopolicy;

    @Option(names = "--busy-poll", paramLabel = "DURATION",
            description = "How long an event loop that just saw I/O polls for more before it sleeps, e.g. 50us: "
                    + "lower latency at low queue depth for CPU time; 0 = off (default: off, or what the config "
                    + "file says).")
    String busyPoll;

    @Option(names = "--transport", paramLabel = "TRANSPORT",
            description = "How the event loops reach the kernel: auto, epoll, io_uring, nio (default: auto, which "
                    + "is epoll where it loads, or what the config file says).")
    String transport;

    @Option(names = "--backend-tls-certificates", paramLabel = "DIR",
            description = "CA (ca-cert.pem) and optional client certificate (client-cert.pem, client-key.pem) for "
                    + "nbds:// paths, in the layout of libnbd and qemu (overrides the top-level "
                    + "backend-tls.certificates).")
    String backendTlsCertificates;

    /** The configuration these flags describe; {@code ConfigException} if it is wrong. */
    GatewayConfig buildConfig() {
        GatewayConfig cfg = config == null ? GatewayConfig.inline(listen, admin, exports, iopolicy)
                : GatewayConfig.load(config).withInline(listen, admin, exports, iopolicy);
        return cfg.withBusyPoll(busyPoll).withTransport(transport).withAdminTokenFile(adminTokenFile)
                .withBackendTlsCertificates(backendTlsCertificates);
    }

    @Override
    public Integer call() throws Exception {
        GatewayConfig cfg = buildConfig();
        Gateway gateway = Gateway.start(cfg);
        Reload.onHangup(gateway);
        Shutdown.onSignal(gateway::close).await();
        return Main.EXIT_OK;
    }
}
