package io.mpathnbd.server.access;

import java.util.List;

/**
 * Who may attach to one export, and who may write to it.
 *
 * <p>Without an allow list every client may attach. With one, the entries are tried in order and the first that
 * matches the client decides: a client no entry matches may not attach at all, and one whose entry says
 * {@code read-only} attaches read-only. A read-only export is read-only for every client whatever its entry says.
 *
 * <p>With TLS on the front end, an export may also demand it: {@code tlsRequired} (a TLS-only export in the NBD
 * spec's SELECTIVETLS mode) and {@code certificateRequired} (the client must have presented a certificate the
 * gateway's CA verified).
 *
 * @param readOnly the export is read-only for every client
 * @param allow the allow list in configuration order; empty: every client may attach
 * @param tlsRequired only clients that negotiated TLS may attach
 * @param certificateRequired only TLS clients with a verified certificate may attach (implies {@code tlsRequired})
 */
public record ExportAccess(boolean readOnly, List<AccessRule> allow, boolean tlsRequired,
        boolean certificateRequired) {
    /** Every client may attach and write: the behaviour without any access settings. */
    public static final ExportAccess OPEN = new ExportAccess(false, List.of());

    public ExportAccess {
        allow = List.copyOf(allow);
        tlsRequired = tlsRequired || certificateRequired;
    }

    /** Without TLS requirements. */
    public ExportAccess(boolean readOnly, List<AccessRule> allow) {
        this(readOnly, allow, false, false);
    }

    /** This access with other TLS requirements. */
    public ExportAccess withTls(boolean tls, boolean certificate) {
        return new ExportAccess(readOnly, allow, tls, certificate);
    }

    /** Whether {@code client} may attach (and so see the export in a list). */
    public boolean allows(ClientIdentity client) {
        return allow.isEmpty() || rule(client) != null;
    }

    /** Whether {@code client}, if it may attach, may only read. */
    public boolean readOnlyFor(ClientIdentity client) {
        if (readOnly) {
            return true;
        }
        AccessRule r = rule(client);
        return r != null && r.readOnly();
    }

    /** Whether an allow list limits who may attach. */
    public boolean restricted() {
        return !allow.isEmpty();
    }

    private AccessRule rule(ClientIdentity client) {
        for (AccessRule r : allow) {
            if (r.matches(client)) {
                return r;
            }
        }
        return null;
    }
}
