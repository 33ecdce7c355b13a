package io.mpathnbd.server.frontend;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;

/**
 * What the front end does with {@code NBD_OPT_STARTTLS}: the NBD spec's mode, and the TLS handler for the next
 * connection (Netty's {@code SslHandler} from the current X.509 certificates, which change when they are reloaded,
 * or the TLS-PSK handler). Either fires Netty's {@code SslHandshakeCompletionEvent}.
 *
 * @param mode     OFF (NOTLS), OPTIONAL (SELECTIVETLS) or REQUIRED (FORCEDTLS)
 * @param handlers a new server TLS handler for one connection; unused when OFF
 */
public record FrontendTls(Mode mode, Function<ByteBufAllocator, ChannelHandler> handlers) {
    public static final FrontendTls OFF = new FrontendTls(Mode.OFF, alloc -> {
        throw new IllegalStateException("TLS is off");
    });

    public FrontendTls {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(handlers, "handlers");
    }

    /** A Netty X.509 server handler from {@code context}; the front end's handshake-timeout bounds its handshake. */
    public static ChannelHandler x509(io.netty.handler.ssl.SslContext context, ByteBufAllocator alloc) {
        return TlsUpgrade.x509(context, alloc);
    }

    /** The NBD spec's TLS modes. */
    public enum Mode {
        /** NOTLS: STARTTLS is refused with NBD_REP_ERR_POLICY. */
        OFF,
        /** SELECTIVETLS: TLS when the client asks; exports with {@code tls-only: true} only over TLS. */
        OPTIONAL,
        /** FORCEDTLS: nothing but STARTTLS and ABORT is answered before TLS. */
        REQUIRED;

        public static final List<String> LABELS = List.of("off", "optional", "required");

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
