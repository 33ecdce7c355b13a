package io.mpathnbd.server.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Locale;

/**
 * The admin API's authentication ({@code admin-auth:}): a bearer token read from a file at start, and which requests
 * may go without it. Without the section the admin API has none, which the gateway accepts on a loopback address
 * only ({@link #checkExposure}). The token never appears in {@link #toString}, in messages or in logs.
 */
public final class AdminAuth {
    static final String KEY = "admin-auth";
    static final List<String> KEYS = List.of("token-file", "open");
    /** Shorter tokens can be guessed; a generated one is longer. */
    public static final int MIN_TOKEN = 16;
    private static final int MAX_TOKEN = 4096;
    /** How the messages and docs say to make a token. */
    public static final String HOW_TO_MAKE = "head -c 32 /dev/urandom | base64 > FILE";

    /** Which requests are served without the token; each level includes the ones before it. */
    public enum Open {
        /** Every request needs the token. */
        NONE,
        /** {@code GET /health} and {@code /health/{name}}, for probes that cannot send a header. */
        HEALTH,
        /** Every GET (and HEAD): {@code /api/...}, {@code /metrics}, {@code /health}, {@code /}. */
        READS,
        /** Every request, changes too: no authentication. */
        ALL;

        static final List<String> LABELS = List.of("none", "health", "reads", "all");

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private static final AdminAuth UNSET = new AdminAuth(null, null, Open.ALL, false);

    private final String tokenFile;
    private final byte[] token;
    private final Open open;
    /** False when the config says nothing: then "no authentication" was not the operator's choice. */
    private final boolean explicit;

    private AdminAuth(String tokenFile, byte[] token, Open open, boolean explicit) {
        this.tokenFile = tokenFile;
        this.token = token;
        this.open = open;
        this.explicit = explicit;
    }

    /** No {@code admin-auth:} section: no authentication, acceptable on loopback only. */
    public static AdminAuth unset() {
        return UNSET;
    }

    /** The {@code admin-auth:} section of the top level, or {@link #unset()} without one; reads the token file. */
    static AdminAuth read(Section parent) {
        if (!parent.has(KEY)) {
            return UNSET;
        }
        Section s = Section.of(parent.raw(KEY), KEY);
        s.allowOnly(KEYS);
        String file = s.string("token-file", null);
        Open open = Open.valueOf(s.choice("open", "none", Open.LABELS).toUpperCase(Locale.ROOT));
        return of(s.where("token-file"), file, s.where("open"), open);
    }

    /** {@code serve --admin-token-file}: this config's {@code open} level with the flag's token file. */
    public AdminAuth withTokenFile(String flag) {
        if (flag == null) {
            return this;
        }
        Open level = explicit ? open : Open.NONE;
        return of("--admin-token-file", flag, KEY + ".open", level);
    }

    private static AdminAuth of(String fileWhere, String file, String openWhere, Open open) {
        if (open == Open.ALL) {
            if (file != null) {
                throw new ConfigException(openWhere + ": 'all' serves every request without a token, so the token"
                        + " file would guard nothing: give either open: all or a token file");
            }
            return new AdminAuth(null, null, Open.ALL, true);
        }
        if (file == null) {
            throw new ConfigException(fileWhere + ": missing (with open: " + open.label() + " requests need a token;"
                    + " make a file with `" + HOW_TO_MAKE + "`, or say open: all to run without authentication)");
        }
        return new AdminAuth(file, readToken(fileWhere, file), open, true);
    }

    /** The token in {@code file}, checked as {@link #checkToken} does; for the gateway and the CLI. */
    public static byte[] readToken(String where, String file) {
        return checkToken(where + " (" + file + ")", SecretFile.read(where, file));
    }

    /**
     * The token as bytes, if it can be one: {@value #MIN_TOKEN} to 4096 printable ASCII characters without blanks
     * (it travels in an HTTP header). Messages say what is wrong, never what the token is.
     */
    public static byte[] checkToken(String where, String token) {
        if (token.isEmpty()) {
            throw new ConfigException(where + ": the token is empty (make one with `" + HOW_TO_MAKE + "`)");
        }
        if (token.chars().anyMatch(c -> c <= ' ' || c > '~')) {
            throw new ConfigException(where + ": the token holds a blank, a line break or a character outside"
                    + " printable ASCII (it is sent in an HTTP header; make one with `" + HOW_TO_MAKE + "`)");
        }
        if (token.length() < MIN_TOKEN || token.length() > MAX_TOKEN) {
            throw new ConfigException(where + ": the token must be " + MIN_TOKEN + " to " + MAX_TOKEN
                    + " characters long, it has " + token.length() + " (make one with `" + HOW_TO_MAKE + "`)");
        }
        return token.getBytes(StandardCharsets.US_ASCII);
    }

    /** Whether requests carry a token at all (false: nothing is checked). */
    public boolean tokenRequired() {
        return token != null;
    }

    public Open open() {
        return open;
    }

    /** The file the token came from, or null. */
    public String tokenFile() {
        return tokenFile;
    }

    /**
     * Whether {@code presented} is the token, in time independent of where they differ: both are hashed first, so
     * that not even the length shows.
     */
    public boolean matches(byte[] presented) {
        if (token == null || presented == null) {
            return false;
        }
        return MessageDigest.isEqual(sha256(token), sha256(presented));
    }

    /**
     * Refuses an admin API without authentication on an address other machines reach, unless the operator said
     * {@code open: all}: anyone there could fail and remove paths.
     */
    public void checkExposure(HostPort admin) {
        if (token != null || explicit || loopback(admin.host())) {
            return;
        }
        throw new ConfigException("admin: " + admin + " can be reached from other machines, and the admin API has no"
                + " authentication (whoever reaches it could fail, add and remove paths). Give it a token:"
                + " admin-auth: {token-file: FILE} in the config file, or serve --admin-token-file FILE, with a FILE"
                + " made by `" + HOW_TO_MAKE + "`; or listen on 127.0.0.1; or, where a network you control guards"
                + " the port, say admin-auth: {open: all}");
    }

    private static boolean loopback(String host) {
        try {
            for (InetAddress a : InetAddress.getAllByName(host)) {
                if (!a.isLoopbackAddress()) {
                    return false;
                }
            }
            return true;
        } catch (UnknownHostException e) {
            return true; // nothing to bind to: the listener fails with its own message
        }
    }

    private static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no SHA-256 in this JVM", e);
        }
    }

    @Override
    public String toString() {
        return token == null ? "admin-auth(open: " + open.label() + (explicit ? "" : ", unset") + ")"
                : "admin-auth(token-file: " + tokenFile + ", open: " + open.label() + ")";
    }
}
