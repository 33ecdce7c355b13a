package io.mpathnbd.server.admin;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.mpathnbd.server.config.AdminAuth;
import io.mpathnbd.server.metrics.MeterNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who may use the admin API: each request's bearer token against admin-auth's, decided from the request head
 * alone, before its body is read or its path routed (so a caller without the token learns not even which exports
 * exist). A refusal is a 401 with {@code WWW-Authenticate: Bearer}, counted, and logged at most once per
 * {@link #LOG_INTERVAL_NANOS} with how many more there were; nothing says what token was sent or expected.
 */
final class AdminAccess {
    private static final Logger LOG = LoggerFactory.getLogger(AdminAccess.class);
    static final long LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final String REALM = "Bearer realm=\"mpath-nbd\"";

    /** What a request may do, for {@code admin-auth.open}: health probes, other reads, changes. */
    enum Kind {
        HEALTH(AdminAuth.Open.HEALTH),
        READ(AdminAuth.Open.READS),
        CHANGE(AdminAuth.Open.ALL);

        /** The lowest {@code open} level that serves this kind without a token. */
        final AdminAuth.Open openFrom;

        Kind(AdminAuth.Open openFrom) {
            this.openFrom = openFrom;
        }
    }

    private final AdminAuth auth;
    private final Counter missing;
    private final Counter wrong;
    private long lastLogged;
    private boolean loggedOnce;
    private long suppressed;

    AdminAccess(AdminAuth auth, MeterRegistry registry) {
        this.auth = auth;
        this.missing = counter(registry, "missing-token");
        this.wrong = counter(registry, "wrong-token");
    }

    private static Counter counter(MeterRegistry registry, String reason) {
        return Counter.builder(MeterNames.ADMIN_UNAUTHORIZED).tag("reason", reason)
                .description("Admin API requests refused for a missing or wrong bearer token").register(registry);
    }

    /**
     * @param segments the decoded path, or null if it cannot be decoded (then only the method tells the kind)
     * @param authorization the Authorization header, or null
     * @return null to let the request through, else the 401 to answer
     */
    AdminResponse check(HttpMethod method, List<String> segments, String authorization, String who) {
        Kind kind = kind(method, segments);
        if (!auth.tokenRequired() || auth.open().compareTo(kind.openFrom) >= 0) {
            return null;
        }
        byte[] presented = bearer(authorization);
        if (presented != null && auth.matches(presented)) {
            return null;
        }
        if (presented == null) {
            missing.increment();
            refused(kind, method, who, "no bearer token");
            return AdminResponse.error(HttpResponseStatus.UNAUTHORIZED, "this request needs the admin token:"
                    + " send 'Authorization: Bearer TOKEN' with the token of the gateway's admin-auth token-file")
                    .withHeader("WWW-Authenticate", REALM);
        }
        wrong.increment();
        refused(kind, method, who, "wrong bearer token");
        return AdminResponse.error(HttpResponseStatus.UNAUTHORIZED, "the admin token sent is not the gateway's")
                .withHeader("WWW-Authenticate", REALM + ", error=\"invalid_token\"");
    }

    static Kind kind(HttpMethod method, List<String> segments) {
        if (!method.equals(HttpMethod.GET) && !method.equals(HttpMethod.HEAD)) {
            return Kind.CHANGE;
        }
        boolean health = segments != null && (segments.size() == 1 || segments.size() == 2)
                && segments.get(0).equals("health");
        return health ? Kind.HEALTH : Kind.READ;
    }

    /** The token of {@code Authorization: Bearer TOKEN} (scheme in any case), or null for anything else. */
    static byte[] bearer(String authorization) {
        if (authorization == null) {
            return null;
        }
        String h = authorization.trim();
        int space = h.indexOf(' ');
        if (space < 0 || !h.substring(0, space).equalsIgnoreCase("Bearer")) {
            return null;
        }
        String token = h.substring(space + 1).trim();
        return token.isEmpty() ? null : token.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** The method and kind only: the path is the caller's text, and the token is never shown. */
    private void refused(Kind kind, HttpMethod method, String who, String why) {
        long now = System.nanoTime();
        long before;
        synchronized (this) {
            if (loggedOnce && now - lastLogged < LOG_INTERVAL_NANOS) {
                suppressed++;
                return;
            }
            before = suppressed;
            suppressed = 0;
            lastLogged = now;
            loggedOnce = true;
        }
        String more = before == 0 ? "" : " (" + before + " more refused since the last such line)";
        LOG.warn("admin API: refused a {} request ({}) from {}: {}{}", kind.name().toLowerCase(java.util.Locale.ROOT),
                method.name(), who, why, more);
    }
}
