package io.mpathnbd.iscsi.backend;

import io.mpathnbd.core.backend.DriverOptions;
import io.mpathnbd.core.backend.TransportOptions;
import io.mpathnbd.iscsi.session.ChapSecret;
import io.mpathnbd.iscsi.session.IscsiSessionConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * The iSCSI keys of {@link TransportOptions} (set from the config's {@code iscsi:} sections) and how a path's
 * session configuration is made from them. Keys not set take the session's defaults; the initiator name defaults to
 * {@link #defaultInitiatorName()}.
 */
public final class IscsiOptions {
    public static final String INITIATOR_NAME = "iscsi.initiator-name";
    public static final String CHAP_USER = "iscsi.chap-user";
    public static final String CHAP_SECRET = "iscsi.chap-secret";
    public static final String MUTUAL_CHAP_USER = "iscsi.mutual-chap-user";
    public static final String MUTUAL_CHAP_SECRET = "iscsi.mutual-chap-secret";
    /** {@code none} or {@code crc32c}. */
    public static final String HEADER_DIGEST = "iscsi.header-digest";
    public static final String DATA_DIGEST = "iscsi.data-digest";
    public static final String LOGIN_TIMEOUT = "iscsi.login-timeout";
    /** Zero switches the NOP-Out keepalive off. */
    public static final String NOP_INTERVAL = "iscsi.nop-interval";
    public static final String NOP_TIMEOUT = "iscsi.nop-timeout";
    public static final String ABORT_TIMEOUT = "iscsi.abort-timeout";

    public static final List<String> DIGESTS = List.of("none", "crc32c");
    /** The naming authority of generated initiator names: the project's reversed domain, dated. */
    public static final String INITIATOR_PREFIX = "iqn.2026-11.io.mpathnbd:";

    private static volatile String defaultName;

    private IscsiOptions() {
    }

    /**
     * {@code iqn.2026-11.io.mpathnbd:<hostname>}: stable across restarts on one machine, so target ACLs keep
     * matching, and distinct between machines.
     */
    public static String defaultInitiatorName() {
        String n = defaultName;
        if (n == null) {
            n = INITIATOR_PREFIX + sanitize(hostname());
            defaultName = n;
        }
        return n;
    }

    static String sanitize(String host) {
        String h = host.trim().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9.-]", "-");
        return h.isEmpty() ? "localhost" : h;
    }

    private static String hostname() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env;
        }
        try {
            String f = Files.readString(Paths.get("/etc/hostname")).trim();
            if (!f.isEmpty()) {
                return f;
            }
        } catch (IOException | RuntimeException e) {
            // fall through: not Linux, or no file
        }
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }

    /**
     * The session settings of one path: the URI's target and CHAP (which wins over configured CHAP), the transport
     * options, the driver's request timeout as the task timeout (a task not answered in time is aborted, see the
     * session), and the path's own ISID.
     */
    static IscsiSessionConfig sessionConfig(IscsiUri uri, InetSocketAddress portal, DriverOptions options,
            long isid) {
        TransportOptions t = options.transport();
        String initiator = t.get(INITIATOR_NAME, defaultInitiatorName());
        IscsiNames.check(initiator);
        IscsiSessionConfig c = IscsiSessionConfig.defaults(initiator, uri.targetName(), portal, isid);
        ChapSecret chap = uri.chap() != null ? uri.chap() : chap(t, CHAP_USER, CHAP_SECRET);
        ChapSecret mutual = chap(t, MUTUAL_CHAP_USER, MUTUAL_CHAP_SECRET);
        c = c.withChap(chap).withMutualChap(mutual)
                .withHeaderDigest(digest(t, HEADER_DIGEST))
                .withDataDigest(digest(t, DATA_DIGEST))
                .withLoginTimeout(t.duration(LOGIN_TIMEOUT, loginTimeout(options)))
                .withNopInterval(t.duration(NOP_INTERVAL, c.nopInterval()))
                .withNopTimeout(t.duration(NOP_TIMEOUT, c.nopTimeout()))
                .withAbortTimeout(t.duration(ABORT_TIMEOUT, c.abortTimeout()));
        Duration task = options.requestTimeout();
        if (task != null && !task.isZero() && !task.isNegative()) {
            c = c.withTaskTimeout(task);
        }
        return c;
    }

    /** Login must fit in the path's connect timeout unless configured otherwise. */
    private static Duration loginTimeout(DriverOptions options) {
        Duration d = options.connectTimeout();
        return d == null || d.isZero() || d.isNegative() ? IscsiSessionConfig.DEFAULT_LOGIN_TIMEOUT : d;
    }

    private static ChapSecret chap(TransportOptions t, String userKey, String secretKey) {
        String user = t.get(userKey);
        String secret = t.get(secretKey);
        if (user == null && secret == null) {
            return null;
        }
        if (user == null || secret == null) {
            throw new IllegalArgumentException((user == null ? userKey : secretKey) + " is missing (" + userKey
                    + " and " + secretKey + " go together)");
        }
        return new ChapSecret(user, secret);
    }

    private static boolean digest(TransportOptions t, String key) {
        String v = t.get(key, "none").trim().toLowerCase(Locale.ROOT);
        if (!DIGESTS.contains(v)) {
            throw new IllegalArgumentException(key + ": '" + v + "' is not one of none, crc32c");
        }
        return v.equals("crc32c");
    }
}
