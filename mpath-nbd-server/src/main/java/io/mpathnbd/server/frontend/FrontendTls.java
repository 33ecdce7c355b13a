package io.mpathnbd.server.frontend;

import io.netty.handler.ssl.SslContext;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * What the front end does with {@code NBD_OPT_STARTTLS}: the NBD spec's mode, and where the current server context
 * comes from (it changes when certificates are reloaded).
 *
 * @param mode     OFF (NOTLS), OPTIONAL (SELECTIVETLS) or REQUIRED (FORCEDTLS)
 * @param contexts the context for the next TLS connection; unused when OFF
 */
public record FrontendTls(Mode mode, Supplier<SslContext> contexts) {
    public static final FrontendTls OFF = new FrontendTls(Mode.OFF, () -> {
        throw new IllegalStateException("TLS is off");
    });

    public FrontendTls {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(contexts, "contexts");
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
