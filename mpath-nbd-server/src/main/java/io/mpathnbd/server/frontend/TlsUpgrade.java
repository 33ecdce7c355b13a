package io.mpathnbd.server.frontend;

import io.mpathnbd.nbd.protocol.NbdServerHandshakeDecoder;
import io.netty.channel.ChannelHandlerContext;
import io.mpathnbd.server.tls.PskTlsHandler;
import io.netty.handler.ssl.SslHandler;
import java.util.Optional;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.security.auth.x500.X500Principal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns one handshake connection into a TLS connection after {@code NBD_OPT_STARTTLS} was acknowledged, and reads
 * the client's verified certificate subject once the TLS handshake is done. The TLS handler goes first in the
 * pipeline, so everything received and sent after the acknowledgement goes through it; the acknowledgement itself
 * was written before, in clear text, as the spec says. Failed TLS handshakes are logged (rate-limited, with the
 * reason the TLS stack gives, never key material) and counted.
 */
final class TlsUpgrade {
    static final String TLS = "tls";
    private static final Logger LOG = LoggerFactory.getLogger(TlsUpgrade.class);
    private static final RefusalLog FAILURES = new RefusalLog(LOG, RefusalLog.INTERVAL_NANOS);

    private TlsUpgrade() {
    }

    /**
     * Whether bytes the client sent after STARTTLS, before the acknowledgement, wait in the handshake decoder: the
     * spec forbids them, and they could be read neither as options nor as TLS.
     */
    static boolean pipelinedAfterStartTls(ChannelHandlerContext ctx) {
        NbdServerHandshakeDecoder decoder = (NbdServerHandshakeDecoder) ctx.pipeline().get(NbdFrontend.HANDSHAKE_DECODER);
        return decoder != null && decoder.buffered() > 0;
    }

    /**
     * Puts a server TLS handler at the front of the pipeline. Its own handshake timeout is off: the front end's
     * {@code handshake-timeout} bounds the whole negotiation, TLS included.
     */
    static void begin(ChannelHandlerContext ctx, FrontendTls tls) {
        ctx.pipeline().addFirst(TLS, tls.handlers().apply(ctx.alloc()));
    }

    /** An X.509 handler from {@code context}, without a handshake timeout of its own (see {@link #begin}). */
    static SslHandler x509(io.netty.handler.ssl.SslContext context, io.netty.buffer.ByteBufAllocator alloc) {
        SslHandler handler = context.newHandler(alloc);
        handler.setHandshakeTimeoutMillis(0);
        return handler;
    }

    /** The subject of the certificate the client presented and the CA verified, if it presented one. */
    static Optional<X500Principal> verifiedSubject(ChannelHandlerContext ctx) {
        if (!(ctx.pipeline().get(TLS) instanceof SslHandler handler)) {
            return Optional.empty(); // TLS-PSK: a user name, no certificate
        }
        try {
            return Optional.of((X500Principal) handler.engine().getSession().getPeerPrincipal());
        } catch (SSLPeerUnverifiedException | ClassCastException e) {
            return Optional.empty();
        }
    }

    /** The negotiated protocol and cipher suite, or the PSK user, for the log line. */
    static String describe(ChannelHandlerContext ctx) {
        Object handler = ctx.pipeline().get(TLS);
        if (handler instanceof SslHandler ssl) {
            return ssl.engine().getSession().getProtocol() + " " + ssl.engine().getSession().getCipherSuite();
        }
        if (handler instanceof PskTlsHandler psk) {
            return "TLS-PSK, user '" + psk.identity() + "'";
        }
        return "no TLS";
    }

    static void failed(String remote, Throwable cause) {
        Throwable root = cause;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String why = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        FAILURES.refused(remote + ": TLS handshake failed: " + why);
    }
}
