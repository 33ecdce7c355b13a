package io.mpathnbd.iscsi.backend;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * iSCSI names (RFC 7143 section 4.2.7): {@code iqn.YYYY-MM.reversed.domain[:anything]}, {@code eui.} plus 16 hex
 * digits, {@code naa.} plus 16 or 32 hex digits; at most 223 bytes. Checked before login, so a typo is reported as
 * such rather than as a target's "not found".
 */
public final class IscsiNames {
    public static final int MAX_BYTES = 223;
    private static final Pattern IQN = Pattern.compile("iqn\\.[0-9]{4}-(0[1-9]|1[0-2])\\.[a-z0-9]([a-z0-9.-]*[a-z0-9])?"
            + "(:[a-z0-9.:_-]*)?");
    private static final Pattern EUI = Pattern.compile("eui\\.[0-9a-f]{16}");
    private static final Pattern NAA = Pattern.compile("naa\\.([0-9a-f]{16}|[0-9a-f]{32})");

    private IscsiNames() {
    }

    /** Null if {@code name} is a well-formed iSCSI name, else what is wrong with it. */
    public static String problem(String name) {
        if (name == null || name.isEmpty()) {
            return "empty iSCSI name";
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES) {
            return "iSCSI name longer than " + MAX_BYTES + " bytes";
        }
        String n = name.toLowerCase(Locale.ROOT);
        if (n.startsWith("iqn.")) {
            return IQN.matcher(n).matches() ? null : "'" + name + "' is not a valid iqn name (expected"
                    + " iqn.YYYY-MM.reversed.domain[:identifier], letters, digits, '.', '-', ':')";
        }
        if (n.startsWith("eui.")) {
            return EUI.matcher(n).matches() ? null : "'" + name + "' is not a valid eui name (eui. and 16 hex digits)";
        }
        if (n.startsWith("naa.")) {
            return NAA.matcher(n).matches() ? null
                    : "'" + name + "' is not a valid naa name (naa. and 16 or 32 hex digits)";
        }
        return "'" + name + "' is not an iSCSI name (it must start with iqn., eui. or naa.)";
    }

    /** Returns {@code name} if valid, else throws {@link IllegalArgumentException} with the problem. */
    public static String check(String name) {
        String p = problem(name);
        if (p != null) {
            throw new IllegalArgumentException(p);
        }
        return name;
    }
}
