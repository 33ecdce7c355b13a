package io.mpathnbd.server;

import io.mpathnbd.core.tls.CertificateFiles;
import io.mpathnbd.core.tls.TlsConfigException;
import io.mpathnbd.core.tls.TlsContexts;
import io.mpathnbd.server.config.ConfigException;
import io.mpathnbd.server.config.GatewayConfig;
import io.mpathnbd.server.config.TlsSettings;
import io.mpathnbd.server.frontend.FrontendTls;
import io.mpathnbd.server.metrics.GatewayMetrics;
import io.mpathnbd.server.tls.PskTls;
import io.mpathnbd.server.tls.ReloadingContext;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.concurrent.EventExecutorGroup;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The gateway's TLS listeners' certificates: the NBD port's ({@code tls:}) and the admin API's ({@code admin-tls:}),
 * loaded before anything listens, checked for new files every {@code tls.reload-interval}, and reloaded on demand
 * (SIGHUP).
 */
final class GatewayTls implements AutoCloseable {
    private final ReloadingContext nbd;
    /** TLS-PSK on the NBD port instead of {@link #nbd}; null without {@code tls.psk-file}. */
    private final PskTls psk;
    private final ReloadingContext admin;
    private final Duration interval;
    private ScheduledFuture<?> checks;

    private GatewayTls(ReloadingContext nbd, PskTls psk, ReloadingContext admin, Duration interval) {
        this.nbd = nbd;
        this.psk = psk;
        this.admin = admin;
        this.interval = interval;
    }

    /** Loads both listeners' files; a {@link ConfigException} names the file that cannot be used. */
    static GatewayTls load(GatewayConfig config, GatewayMetrics metrics) {
        TlsSettings t = config.tls();
        ReloadingContext nbd = null;
        PskTls psk = null;
        if (t.psk() != null) {
            // the front end's handshake-timeout bounds the TLS handshake, as for X.509
            psk = PskTls.of(t.psk(), Duration.ZERO);
        } else if (t.enabled()) {
            ClientAuth auth = t.clientAuth();
            SslProvider provider = t.provider();
            nbd = load("NBD", t.where(), t.files(), f -> TlsContexts.server(f, auth, provider),
                    ok -> metrics.tlsReload("nbd", ok));
        }
        ReloadingContext admin = null;
        if (config.adminTls().enabled()) {
            admin = load("admin API", config.adminTls().where(), config.adminTls().files(),
                    f -> TlsContexts.server(f, ClientAuth.NONE, SslProvider.JDK), ok -> metrics.tlsReload("admin", ok));
        }
        Duration interval = t.enabled() ? t.reloadInterval() : TlsSettings.DEFAULT_RELOAD;
        return new GatewayTls(nbd, psk, admin, interval);
    }

    private static ReloadingContext load(String name, String where, CertificateFiles files,
            ReloadingContext.Builder builder, java.util.function.Consumer<Boolean> outcomes) {
        try {
            return ReloadingContext.load(name, files, builder, outcomes);
        } catch (TlsConfigException e) {
            throw new ConfigException(where + ": " + e.getMessage(), e);
        }
    }

    /** What the NBD front end does with STARTTLS: X.509 from the reloading certificates, or TLS-PSK. */
    FrontendTls frontend(TlsSettings settings) {
        if (psk != null) {
            return new FrontendTls(settings.mode(), alloc -> psk.newHandler());
        }
        return nbd == null ? FrontendTls.OFF
                : new FrontendTls(settings.mode(), alloc -> FrontendTls.x509(nbd.current(), alloc));
    }

    /** The admin API's current context, or null for plain HTTP. */
    Supplier<SslContext> admin() {
        return admin == null ? null : admin::current;
    }

    /** Starts the periodic checks for new files (none when the interval is zero or nothing uses TLS). */
    void startChecks(EventExecutorGroup executor) {
        if (interval.isZero() || contexts().isEmpty()) {
            return;
        }
        long nanos = interval.toNanos();
        checks = executor.scheduleWithFixedDelay(() -> contexts().forEach(ReloadingContext::reloadIfChanged),
                nanos, nanos, TimeUnit.NANOSECONDS);
    }

    /** Reloads every listener's files now; returns how many took effect. */
    int reloadAll(String why) {
        int n = 0;
        for (ReloadingContext c : contexts()) {
            n += c.reload(why) ? 1 : 0;
        }
        return n;
    }

    private List<ReloadingContext> contexts() {
        List<ReloadingContext> out = new ArrayList<>(2);
        if (nbd != null) {
            out.add(nbd);
        }
        if (admin != null) {
            out.add(admin);
        }
        return out;
    }

    @Override
    public void close() {
        if (checks != null) {
            checks.cancel(false);
        }
    }
}
