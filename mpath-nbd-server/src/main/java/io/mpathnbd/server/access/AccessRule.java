package io.mpathnbd.server.access;

import java.util.Optional;
import javax.security.auth.x500.X500Principal;

/**
 * One entry of an export's allow list: a client network, a TLS client certificate subject, or both (then the client
 * must match both), and whether a client it matches may only read.
 *
 * <p>Subjects are compared with {@link X500Principal#equals}, which compares the canonical RFC 2253 forms: attribute
 * types and values are matched exactly apart from case and insignificant blanks, and the order of the RDNs matters.
 * An entry with a subject never matches a client without a verified certificate.
 *
 * @param network clients' networks; empty: any address
 * @param subject the certificate subject a client must present; empty: none needed
 * @param readOnly whether clients this entry matches attach read-only
 */
public record AccessRule(Optional<Network> network, Optional<X500Principal> subject, boolean readOnly) {

    public AccessRule {
        if (network.isEmpty() && subject.isEmpty()) {
            throw new IllegalArgumentException("an allow entry needs a network, a subject or both");
        }
    }

    public boolean matches(ClientIdentity client) {
        if (network.isPresent() && (client.address() == null || !network.get().contains(client.address()))) {
            return false;
        }
        return subject.isEmpty() || subject.equals(client.subject());
    }

    /** For the admin API and logs, e.g. {@code 10.0.0.0/8 subject 'CN=host1' read-only}. */
    public String describe() {
        StringBuilder sb = new StringBuilder(network.map(Network::toString).orElse("any address"));
        subject.ifPresent(s -> sb.append(" subject '").append(s.getName()).append('\''));
        if (readOnly) {
            sb.append(" read-only");
        }
        return sb.toString();
    }
}
