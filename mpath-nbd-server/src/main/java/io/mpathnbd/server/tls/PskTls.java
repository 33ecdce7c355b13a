package io.mpathnbd.server.tls;

import io.mpathnbd.core.tls.PskFile;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Objects;
import org.bouncycastle.tls.crypto.TlsCrypto;
import org.bouncycastle.tls.crypto.impl.jcajce.JcaTlsCryptoProvider;

/**
 * Makes the front end's TLS-PSK handlers: one {@link PskTlsHandler} per connection, all sharing the keys of one
 * {@link PskFile} and one crypto provider. Where the front end would put Netty's {@code SslHandler} after
 * {@code NBD_OPT_STARTTLS}, it puts {@code pskTls.newHandler()} instead.
 *
 * <p>The crypto is Bouncy Castle's TLS engine over the JDK's own ciphers (its {@code JcaTlsCrypto}), which use the
 * CPU's AES instructions; Bouncy Castle's pure-Java ciphers are slower.
 */
public final class PskTls {
    /** Netty's {@code SslHandler} default. */
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);

    private final PskFile keys;
    private final Duration handshakeTimeout;
    private final TlsCrypto crypto;

    /**
     * @param keys             the users and their keys
     * @param handshakeTimeout a handshake not complete by then closes the connection; zero for none (the caller
     *                         then needs its own)
     * @param crypto           Bouncy Castle's crypto provider
     */
    public PskTls(PskFile keys, Duration handshakeTimeout, TlsCrypto crypto) {
        this.keys = Objects.requireNonNull(keys, "keys");
        this.handshakeTimeout = Objects.requireNonNull(handshakeTimeout, "handshakeTimeout");
        this.crypto = Objects.requireNonNull(crypto, "crypto");
        if (handshakeTimeout.isNegative()) {
            throw new IllegalArgumentException("negative handshake timeout " + handshakeTimeout);
        }
    }

    /** Handlers over the JDK's ciphers, with {@code handshakeTimeout}. */
    public static PskTls of(PskFile keys, Duration handshakeTimeout) {
        return new PskTls(keys, handshakeTimeout, new JcaTlsCryptoProvider().create(new SecureRandom()));
    }

    /** A fresh handler for one connection. */
    public PskTlsHandler newHandler() {
        return new PskTlsHandler(new PskServer(crypto, keys), handshakeTimeout.toMillis());
    }

    /** The key file the handlers authenticate against. */
    public PskFile keys() {
        return keys;
    }

    @Override
    public String toString() {
        return "PskTls[" + keys + ", handshake timeout " + handshakeTimeout + "]";
    }
}
