package io.mpathnbd.iscsi.backend;

import io.mpathnbd.core.backend.Drivers;
import io.mpathnbd.iscsi.session.ChapSecret;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * Where an iSCSI path leads: {@code iscsi://[user[:secret]@]host[:port]/TARGET-IQN/LUN} (port 3260 by default). The
 * user information, when present, is the CHAP name and secret towards the target (percent-encoded as URIs require)
 * and takes precedence over configured CHAP settings. The secret never appears in {@link #display()} or messages.
 *
 * @param chap CHAP credentials from the URI, or null
 * @param lun logical unit number, 0 to 16383 (the session encodes it: peripheral below 256, flat above)
 */
public record IscsiUri(String host, int port, String targetName, int lun, ChapSecret chap) {
    public static final int DEFAULT_PORT = 3260;
    public static final int MAX_LUN = 16383;
    private static final String FORM = " (expected iscsi://[user[:secret]@]host[:port]/TARGET-IQN/LUN)";

    public static IscsiUri parse(URI uri) {
        String shown = Drivers.redact(uri.toString());
        if (!"iscsi".equalsIgnoreCase(uri.getScheme())) {
            throw new IllegalArgumentException("not an iscsi:// URI: " + shown);
        }
        if (uri.isOpaque() || uri.getRawAuthority() == null) {
            throw new IllegalArgumentException("malformed iscsi URI '" + shown + "'" + FORM);
        }
        String host = uri.getHost();
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("iscsi URI '" + shown + "' has no host (or a malformed one)" + FORM);
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = uri.getPort() < 0 ? DEFAULT_PORT : uri.getPort();
        if (port == 0 || port > 65535) {
            throw new IllegalArgumentException("iscsi URI '" + shown + "': port " + port + " out of range");
        }
        if (uri.getRawQuery() != null) {
            throw new IllegalArgumentException("iscsi URI '" + shown + "': query parameters are not supported");
        }
        if (uri.getRawFragment() != null) {
            throw new IllegalArgumentException("iscsi URI '" + shown + "': a fragment is not allowed");
        }
        String path = uri.getPath() == null ? "" : uri.getPath();
        String[] parts = path.startsWith("/") ? path.substring(1).split("/", -1) : new String[] {""};
        if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
            throw new IllegalArgumentException("iscsi URI '" + shown + "': the path must be /TARGET-IQN/LUN, got '"
                    + path + "'" + FORM);
        }
        String target = parts[0];
        String nameProblem = IscsiNames.problem(target);
        if (nameProblem != null) {
            throw new IllegalArgumentException("iscsi URI '" + shown + "': target name: " + nameProblem);
        }
        return new IscsiUri(host, port, target, lun(parts[1], shown), chap(uri, shown));
    }

    private static int lun(String text, String shown) {
        if (!text.matches("[0-9]{1,5}")) {
            throw new IllegalArgumentException("iscsi URI '" + shown + "': LUN '" + text
                    + "' is not a number (0 to " + MAX_LUN + ")");
        }
        int lun = Integer.parseInt(text);
        if (lun > MAX_LUN) {
            throw new IllegalArgumentException("iscsi URI '" + shown + "': LUN " + lun + " out of range (0 to "
                    + MAX_LUN + ")");
        }
        return lun;
    }

    private static ChapSecret chap(URI uri, String shown) {
        String info = uri.getRawUserInfo();
        if (info == null) {
            return null;
        }
        int colon = info.indexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("iscsi URI '" + shown + "': user '" + decode(info, "user", shown)
                    + "' without a CHAP secret (use user:secret@, or configure chap-user/chap-secret instead)");
        }
        String user = decode(info.substring(0, colon), "user", shown);
        String secret = decode(info.substring(colon + 1), "secret", shown);
        if (user.isEmpty()) {
            throw new IllegalArgumentException("iscsi URI '" + shown + "': empty CHAP user name");
        }
        if (secret.isEmpty()) {
            throw new IllegalArgumentException("iscsi URI '" + shown + "': empty CHAP secret");
        }
        return new ChapSecret(user, secret);
    }

    /** Percent-decoding to UTF-8 ('+' stays '+'). */
    private static String decode(String raw, String what, String shown) {
        if (raw.indexOf('%') < 0) {
            return raw;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            int c = raw.codePointAt(i);
            if (c == '%') {
                int hi = i + 2 < raw.length() ? Character.digit(raw.charAt(i + 1), 16) : -1;
                int lo = i + 2 < raw.length() ? Character.digit(raw.charAt(i + 2), 16) : -1;
                if (hi < 0 || lo < 0) {
                    throw new IllegalArgumentException("iscsi URI '" + shown + "': bad %-escape in the CHAP " + what);
                }
                out.write((hi << 4) | lo);
                i += 2;
            } else {
                byte[] b = new String(Character.toChars(c)).getBytes(StandardCharsets.UTF_8);
                out.write(b, 0, b.length);
                i += Character.charCount(c) - 1;
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** iscsi://host:port/target/lun, without credentials: for logs and the admin API. */
    public String display() {
        String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
        return "iscsi://" + h + ":" + port + "/" + targetName + "/" + lun;
    }

    @Override
    public String toString() {
        return display() + (chap == null ? "" : " (CHAP user " + chap.user() + ")");
    }
}
