package io.mpathnbd.server.cli;

import io.mpathnbd.core.backend.Drivers;
import io.mpathnbd.iscsi.backend.IscsiNames;
import io.mpathnbd.iscsi.backend.IscsiOptions;
import io.mpathnbd.iscsi.session.ChapSecret;
import io.mpathnbd.iscsi.session.DiscoveredTarget;
import io.mpathnbd.iscsi.session.IscsiConnection;
import io.mpathnbd.iscsi.session.IscsiSessionConfig;
import io.mpathnbd.iscsi.session.LoginException;
import io.mpathnbd.server.EventLoops;
import io.mpathnbd.server.config.ConfigException;
import io.mpathnbd.server.config.Units;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code mpath-nbd discover iscsi://[user:secret@]host[:port]}: asks an iSCSI portal which targets it offers
 * (a discovery session with SendTargets=All) and prints one line per target and portal, like
 * {@code iscsiadm -m discovery}: {@code HOST:PORT,TPGT TARGET-NAME}.
 */
@Command(name = "discover",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {"List the targets of an iSCSI portal and the portals each is reachable on (SendTargets "
                + "discovery), one line per target and portal: HOST:PORT,TPGT TARGET.", ""})
final class DiscoverCommand implements Callable<Integer> {
    @Parameters(paramLabel = "URI", description = "iscsi://[user[:secret]@]host[:port] (port 3260 by default); "
            + "user and secret are the discovery CHAP credentials, percent-encoded.")
    String uri;

    @Option(names = "--initiator-name", paramLabel = "IQN",
            description = "Our iSCSI name (default: the gateway's, iqn.2026-11.io.mpathnbd:<hostname>).")
    String initiatorName;

    @Option(names = "--chap-user", paramLabel = "USER", description = "CHAP user name (or give it in the URI).")
    String chapUser;

    @Option(names = "--chap-secret-file", paramLabel = "FILE",
            description = "File holding the CHAP secret (keeps it off the command line).")
    Path chapSecretFile;

    @Option(names = "--mutual-chap-user", paramLabel = "USER",
            description = "Mutual CHAP: the name the portal must answer with.")
    String mutualChapUser;

    @Option(names = "--mutual-chap-secret-file", paramLabel = "FILE",
            description = "Mutual CHAP: file holding the portal's secret.")
    Path mutualChapSecretFile;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "15s",
            description = "Give up when the portal has not answered within this time (default: ${DEFAULT-VALUE}).")
    String timeout;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        DiscoveryUri target = DiscoveryUri.parse(uri);
        Duration limit = timeout();
        IscsiSessionConfig config = sessionConfig(target, limit);
        List<DiscoveredTarget> targets = discover(config, limit);
        PrintWriter out = spec.commandLine().getOut();
        for (DiscoveredTarget t : targets) {
            // RFC 7143: a target sent without TargetAddress is reachable where it was discovered
            List<String> addresses = t.addresses().isEmpty() ? List.of(target.hostPort()) : t.addresses();
            for (String address : addresses) {
                out.println(address + " " + t.name());
            }
        }
        out.flush();
        if (targets.isEmpty()) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("mpath-nbd: " + target.hostPort() + " offers no targets to initiator "
                    + config.initiatorName());
            err.flush();
        }
        return Main.EXIT_OK;
    }

    private Duration timeout() {
        Duration d;
        try {
            d = Units.duration("--timeout", timeout);
        } catch (ConfigException e) {
            throw CliException.usage(e.getMessage());
        }
        if (d.isZero()) {
            throw CliException.usage("--timeout must be positive");
        }
        return d;
    }

    private IscsiSessionConfig sessionConfig(DiscoveryUri target, Duration limit) {
        String initiator = initiatorName != null ? initiatorName : IscsiOptions.defaultInitiatorName();
        String nameProblem = IscsiNames.problem(initiator);
        if (nameProblem != null) {
            throw CliException.usage("--initiator-name: " + nameProblem);
        }
        ChapSecret chap = chap(target);
        ChapSecret mutual = credentials("--mutual-chap-user", mutualChapUser, "--mutual-chap-secret-file",
                mutualChapSecretFile);
        if (mutual != null && chap == null) {
            throw CliException.usage("mutual CHAP needs CHAP towards the portal as well (--chap-user or user:secret@"
                    + " in the URI)");
        }
        InetSocketAddress portal = new InetSocketAddress(target.host(), target.port());
        if (portal.isUnresolved()) {
            throw new CliException("cannot resolve host '" + target.host() + "'");
        }
        // the portal needs a moment to answer the text request and the logout too: all of it within --timeout
        return IscsiSessionConfig.defaults(initiator, null, portal, IscsiSessionConfig.randomIsid())
                .withChap(chap).withMutualChap(mutual)
                .withLoginTimeout(limit).withTaskTimeout(limit).withNopInterval(Duration.ZERO);
    }

    /** CHAP from the URI, or from the options; the two ways do not mix except a URI user with a secret file. */
    private ChapSecret chap(DiscoveryUri target) {
        if (target.user() == null) {
            return credentials("--chap-user", chapUser, "--chap-secret-file", chapSecretFile);
        }
        if (chapUser != null) {
            throw CliException.usage("CHAP user given twice: in the URI and with --chap-user");
        }
        if (target.secret() != null) {
            if (chapSecretFile != null) {
                throw CliException.usage("CHAP secret given twice: in the URI and with --chap-secret-file");
            }
            return new ChapSecret(target.user(), target.secret());
        }
        if (chapSecretFile == null) {
            throw CliException.usage("CHAP user '" + target.user() + "' without a secret: use user:secret@ in the URI"
                    + " or --chap-secret-file");
        }
        return new ChapSecret(target.user(), readSecret(chapSecretFile, "--chap-secret-file"));
    }

    private static ChapSecret credentials(String userOption, String user, String fileOption, Path file) {
        if (user == null && file == null) {
            return null;
        }
        if (user == null || file == null) {
            throw CliException.usage(userOption + " and " + fileOption + " go together");
        }
        if (user.isEmpty()) {
            throw CliException.usage(userOption + " is empty");
        }
        return new ChapSecret(user, readSecret(file, fileOption));
    }

    /** The file's content without the line end an editor adds. */
    private static String readSecret(Path file, String option) {
        String s;
        try {
            s = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw CliException.usage(option + ": cannot read " + file + ": " + e.getMessage());
        }
        s = s.replaceAll("[\r\n]+$", "");
        if (s.isEmpty()) {
            throw CliException.usage(option + ": " + file + " is empty");
        }
        return s;
    }

    private static List<DiscoveredTarget> discover(IscsiSessionConfig config, Duration limit) {
        String where = config.portalText();
        try (EventLoops loops = EventLoops.create("mpath-discover", 1)) {
            CompletableFuture<List<DiscoveredTarget>> result =
                    IscsiConnection.discover(config, loops.workers().next(), loops.socketChannelClass());
            try {
                // a little past the session's own timeouts, so that its more precise reason wins
                return result.get(limit.toMillis() * 2 + 1000, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                result.cancel(true);
                throw new CliException("iSCSI discovery at " + where + ": no answer within " + Units.format(limit));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CliException("iSCSI discovery at " + where + " interrupted");
            } catch (ExecutionException e) {
                throw failure(where, e.getCause());
            }
        }
    }

    /** The session's own message (it names the portal already, else we add it), plus the target's status. */
    private static CliException failure(String where, Throwable cause) {
        String reason = cause == null ? "unknown error" : cause.getMessage() != null ? cause.getMessage()
                : cause.toString();
        StringBuilder m = new StringBuilder();
        if (!reason.contains(where)) {
            m.append("iSCSI discovery at ").append(where).append(" failed: ");
        }
        m.append(reason);
        if (cause instanceof LoginException le) {
            String status = le.statusClass() + "/" + le.statusDetail();
            if (le.statusClass() != LoginException.LOCAL && !reason.contains(status)) {
                m.append(" (status ").append(status).append(')');
            }
            if (le.isConfigurationError()) {
                m.append("; check the initiator name and the CHAP settings");
            }
        }
        return new CliException(m.toString(), cause);
    }

    /**
     * {@code iscsi://[user[:secret]@]host[:port][/]}: the portal to ask, with optional discovery CHAP credentials.
     *
     * @param secret null when the URI names only a user
     */
    record DiscoveryUri(String host, int port, String user, String secret) {
        static final int DEFAULT_PORT = 3260;
        private static final String FORM = " (expected iscsi://[user[:secret]@]host[:port])";

        static DiscoveryUri parse(String text) {
            String shown = Drivers.redact(text);
            URI u;
            try {
                u = new URI(text);
            } catch (URISyntaxException e) {
                throw CliException.usage("malformed URI '" + shown + "'" + FORM);
            }
            if (!"iscsi".equalsIgnoreCase(u.getScheme())) {
                throw CliException.usage("not an iscsi:// URI: '" + shown + "'" + FORM);
            }
            String host = u.getHost();
            if (u.isOpaque() || host == null || host.isEmpty()) {
                throw CliException.usage("iscsi URI '" + shown + "' has no host (or a malformed one)" + FORM);
            }
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            String path = u.getRawPath();
            if ((path != null && !path.isEmpty() && !path.equals("/")) || u.getRawQuery() != null
                    || u.getRawFragment() != null) {
                throw CliException.usage("discovery needs only the portal: '" + shown + "'" + FORM);
            }
            int port = u.getPort() < 0 ? DEFAULT_PORT : u.getPort();
            if (port == 0 || port > 65535) {
                throw CliException.usage("iscsi URI '" + shown + "': port " + port + " out of range");
            }
            String info = u.getRawUserInfo();
            if (info == null) {
                return new DiscoveryUri(host, port, null, null);
            }
            int colon = info.indexOf(':');
            String user = decode(colon < 0 ? info : info.substring(0, colon), shown);
            String secret = colon < 0 ? null : decode(info.substring(colon + 1), shown);
            if (user.isEmpty() || (secret != null && secret.isEmpty())) {
                throw CliException.usage("iscsi URI '" + shown + "': empty CHAP user or secret");
            }
            return new DiscoveryUri(host, port, user, secret);
        }

        /** Percent-decoding to UTF-8 ('+' stays '+', as in URIs). */
        private static String decode(String raw, String shown) {
            byte[] bytes = raw.getBytes(StandardCharsets.UTF_8);
            ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length);
            for (int i = 0; i < bytes.length; i++) {
                if (bytes[i] != '%') {
                    out.write(bytes[i]);
                    continue;
                }
                int hi = i + 2 < bytes.length ? Character.digit(bytes[i + 1], 16) : -1;
                int lo = i + 2 < bytes.length ? Character.digit(bytes[i + 2], 16) : -1;
                if (hi < 0 || lo < 0) {
                    throw CliException.usage("iscsi URI '" + shown + "': bad %-escape in the CHAP credentials");
                }
                out.write((hi << 4) | lo);
                i += 2;
            }
            return out.toString(StandardCharsets.UTF_8);
        }

        String hostPort() {
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
        }
    }
}
