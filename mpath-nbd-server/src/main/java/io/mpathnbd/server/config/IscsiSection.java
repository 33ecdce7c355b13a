package io.mpathnbd.server.config;

import io.mpathnbd.core.backend.TransportOptions;
import io.mpathnbd.iscsi.backend.IscsiNames;
import io.mpathnbd.iscsi.backend.IscsiOptions;
import java.time.Duration;
import java.util.List;

/**
 * The {@code iscsi:} section (top level, and per export where it overrides key by key): initiator name, CHAP and
 * mutual CHAP, digests, timeouts. Read into {@link TransportOptions} under the {@code iscsi.} keys; secrets (given
 * inline or read from a file at load time) never appear in messages.
 */
final class IscsiSection {
    static final String KEY = "iscsi";
    static final List<String> KEYS = List.of("initiator-name", "chap-user", "chap-secret", "chap-secret-file",
            "mutual-chap-user", "mutual-chap-secret", "mutual-chap-secret-file", "header-digest", "data-digest",
            "login-timeout", "nop-interval", "nop-timeout", "abort-timeout");
    private static final int MAX_SECRET = 255;

    private IscsiSection() {
    }

    /**
     * Reads {@code s}'s {@code iscsi:} section over {@code base} (its keys win); {@code base} unchanged if there is
     * none. The merged result is checked as a whole (a user needs a secret); that mutual CHAP needs one-way CHAP
     * is checked per path (a path URI may carry the one-way credentials).
     */
    static TransportOptions read(Section parent, TransportOptions base) {
        if (!parent.has(KEY)) {
            return base;
        }
        Section s = Section.of(parent.raw(KEY), parent.where(KEY));
        s.allowOnly(KEYS);
        TransportOptions t = base;
        String initiator = s.string("initiator-name", null);
        if (initiator != null) {
            String problem = IscsiNames.problem(initiator.trim());
            if (problem != null) {
                throw new ConfigException(s.where("initiator-name") + ": " + problem);
            }
            t = t.with(IscsiOptions.INITIATOR_NAME, initiator.trim());
        }
        t = t.with(IscsiOptions.CHAP_USER, user(s, "chap-user", t.get(IscsiOptions.CHAP_USER)));
        t = t.with(IscsiOptions.CHAP_SECRET, secret(s, "chap-secret", t.get(IscsiOptions.CHAP_SECRET)));
        t = t.with(IscsiOptions.MUTUAL_CHAP_USER, user(s, "mutual-chap-user", t.get(IscsiOptions.MUTUAL_CHAP_USER)));
        t = t.with(IscsiOptions.MUTUAL_CHAP_SECRET, secret(s, "mutual-chap-secret",
                t.get(IscsiOptions.MUTUAL_CHAP_SECRET)));
        t = t.with(IscsiOptions.HEADER_DIGEST, s.choice("header-digest", t.get(IscsiOptions.HEADER_DIGEST),
                IscsiOptions.DIGESTS));
        t = t.with(IscsiOptions.DATA_DIGEST, s.choice("data-digest", t.get(IscsiOptions.DATA_DIGEST),
                IscsiOptions.DIGESTS));
        t = duration(s, "login-timeout", IscsiOptions.LOGIN_TIMEOUT, Duration.ofMillis(100), t);
        t = duration(s, "nop-interval", IscsiOptions.NOP_INTERVAL, Duration.ZERO, t);
        t = duration(s, "nop-timeout", IscsiOptions.NOP_TIMEOUT, Duration.ofMillis(100), t);
        t = duration(s, "abort-timeout", IscsiOptions.ABORT_TIMEOUT, Duration.ofMillis(100), t);
        pairs(s, t);
        return t;
    }

    private static String user(Section s, String key, String fallback) {
        String v = s.string(key, null);
        if (v == null) {
            return fallback;
        }
        if (v.isBlank()) {
            throw new ConfigException(s.where(key) + ": empty");
        }
        if (v.length() > MAX_SECRET || v.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new ConfigException(s.where(key) + ": must be 1 to " + MAX_SECRET
                    + " characters without control characters");
        }
        return v;
    }

    /** {@code key} inline or {@code key-file}; the value itself is never shown. */
    private static String secret(Section s, String key, String fallback) {
        String fileKey = key + "-file";
        if (s.has(key) && s.has(fileKey)) {
            throw new ConfigException(s.where(key) + ": give either " + key + " or " + fileKey + ", not both");
        }
        String v;
        String where;
        if (s.has(key)) {
            where = s.where(key);
            v = s.string(key, null);
        } else if (s.has(fileKey)) {
            where = s.where(fileKey);
            v = SecretFile.read(where, s.string(fileKey, null));
        } else {
            return fallback;
        }
        if (v.isEmpty()) {
            throw new ConfigException(where + ": the secret is empty");
        }
        if (v.length() > MAX_SECRET || v.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new ConfigException(where + ": the secret must be 1 to " + MAX_SECRET
                    + " characters without control characters");
        }
        return v;
    }

    private static TransportOptions duration(Section s, String key, String option, Duration min, TransportOptions t) {
        if (!s.has(key)) {
            return t;
        }
        return t.with(option, s.duration(key, null, min));
    }

    private static void pairs(Section s, TransportOptions t) {
        boolean user = t.get(IscsiOptions.CHAP_USER) != null;
        boolean secret = t.get(IscsiOptions.CHAP_SECRET) != null;
        if (user != secret) {
            throw new ConfigException(s.where(user ? "chap-secret" : "chap-user") + ": missing (chap-user and"
                    + " chap-secret go together)");
        }
        boolean mUser = t.get(IscsiOptions.MUTUAL_CHAP_USER) != null;
        boolean mSecret = t.get(IscsiOptions.MUTUAL_CHAP_SECRET) != null;
        if (mUser != mSecret) {
            throw new ConfigException(s.where(mUser ? "mutual-chap-secret" : "mutual-chap-user")
                    + ": missing (mutual-chap-user and mutual-chap-secret go together)");
        }
    }
}
