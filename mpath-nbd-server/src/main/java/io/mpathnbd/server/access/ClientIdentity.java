package io.mpathnbd.server.access;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Objects;
import java.util.Optional;
import javax.security.auth.x500.X500Principal;

/**
 * Who a client is, as far as the access lists care: the address it connects from and, once TLS has verified its
 * certificate, that certificate's subject. Immutable: the handshake replaces it when TLS adds the subject.
 *
 * @param address the client's address; null when the transport has none (then no network matches)
 * @param subject the verified client certificate's subject; empty without TLS or without a client certificate
 */
public record ClientIdentity(InetAddress address, Optional<X500Principal> subject) {

    public ClientIdentity {
        Objects.requireNonNull(subject, "subject");
    }

    /** A client without a certificate, from the remote address of its connection. */
    public static ClientIdentity of(SocketAddress remote) {
        InetAddress a = remote instanceof InetSocketAddress isa ? isa.getAddress() : null;
        return new ClientIdentity(a, Optional.empty());
    }

    /** The same client with its verified certificate subject (after STARTTLS). */
    public ClientIdentity withSubject(X500Principal verifiedSubject) {
        return new ClientIdentity(address, Optional.of(verifiedSubject));
    }

    /** For logs: the address and the subject if there is one. */
    public String describe() {
        String a = address == null ? "unknown address" : address.getHostAddress();
        return subject.map(s -> a + ", certificate subject '" + s.getName() + "'")
                .orElse(a + ", no client certificate");
    }
}
