package io.mpathnbd.server.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.mpathnbd.server.frontend.FrontendObserver;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The gateway's meter registry (Prometheus format) and the observers that feed it: one {@link ExportMetrics} per
 * export for the core, and a {@link FrontendObserver} for client connections.
 */
public final class GatewayMetrics implements AutoCloseable {
    /** Reasons beyond this many distinct values are counted as "other", so a bug cannot grow the registry. */
    private static final int MAX_REASONS = 64;

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<String, ExportMetrics> exports = new ConcurrentHashMap<>();
    private final Map<String, Counter> protocolErrors = new ConcurrentHashMap<>();
    private final AtomicInteger connections = new AtomicInteger();
    private final Counter accepted;
    private final Counter tlsOk;
    private final Counter tlsFailed;
    private final Map<String, Counter> tlsReloads = new ConcurrentHashMap<>();
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private final FrontendObserver frontendObserver = new ClientMetrics();

    public GatewayMetrics() {
        Gauge.builder(MeterNames.CLIENT_CONNECTIONS_NOW, connections, AtomicInteger::get)
                .description("Client connections open now").register(registry);
        accepted = Counter.builder(MeterNames.CLIENT_CONNECTIONS)
                .description("Client connections accepted since start").register(registry);
        tlsOk = tlsHandshakes("ok");
        tlsFailed = tlsHandshakes("failed");
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        gc.bindTo(registry);
    }

    private Counter tlsHandshakes(String outcome) {
        return Counter.builder(MeterNames.CLIENT_TLS_HANDSHAKES).tag("outcome", outcome)
                .description("TLS handshakes after NBD_OPT_STARTTLS, by outcome").register(registry);
    }

    /** A TLS listener's ({@code nbd} or {@code admin}) certificates were reloaded ({@code ok}) or kept. */
    public void tlsReload(String listener, boolean ok) {
        String outcome = ok ? "ok" : "failed";
        tlsReloads.computeIfAbsent(listener + "/" + outcome, k -> Counter.builder(MeterNames.TLS_RELOADS)
                .tag("listener", listener).tag("outcome", outcome)
                .description("Certificate reloads of a TLS listener; failed: the old certificates stay in use")
                .register(registry)).increment();
    }

    /** The observer for one export; the same instance for the same name. */
    public ExportMetrics export(String name) {
        return exports.computeIfAbsent(name, n -> new ExportMetrics(registry, n));
    }

    public FrontendObserver frontendObserver() {
        return frontendObserver;
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** The Prometheus text exposition of every meter. */
    public String scrape() {
        return registry.scrape();
    }

    @Override
    public void close() {
        gc.close();
        exports.values().forEach(ExportMetrics::remove);
        registry.close();
    }

    private final class ClientMetrics implements FrontendObserver {
        @Override
        public void connectionOpened() {
            connections.incrementAndGet();
            accepted.increment();
        }

        @Override
        public void connectionClosed() {
            connections.decrementAndGet();
        }

        @Override
        public void clientAttached(String exportName) {
            ExportMetrics m = exports.get(exportName);
            if (m != null) {
                m.clientAttached();
            }
        }

        @Override
        public void clientDetached(String exportName) {
            ExportMetrics m = exports.get(exportName);
            if (m != null) {
                m.clientDetached();
            }
        }

        @Override
        public void accessRefused(String exportName) {
            // only configured exports have meters: a name a client sent never becomes a tag
            ExportMetrics m = exports.get(exportName);
            if (m != null) {
                m.accessRefused();
            }
        }

        @Override
        public void tlsHandshake(boolean ok) {
            (ok ? tlsOk : tlsFailed).increment();
        }

        @Override
        public void protocolError(String reason) {
            String key = reason == null ? "unknown" : reason;
            Counter c = protocolErrors.get(key);
            if (c == null) {
                if (protocolErrors.size() >= MAX_REASONS) {
                    key = "other";
                }
                c = protocolErrors.computeIfAbsent(key, r -> Counter.builder(MeterNames.CLIENT_PROTOCOL_ERRORS)
                        .tag("reason", r)
                        .description("Client connections closed for a protocol violation or a limit")
                        .register(registry));
            }
            c.increment();
        }
    }
}
