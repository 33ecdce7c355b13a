package io.mpathnbd.server.config;

import io.mpathnbd.core.backend.DriverOptions;
import io.mpathnbd.core.backend.TransportOptions;
import io.mpathnbd.core.export.FailbackMode;
import io.mpathnbd.core.policy.IoPolicies;
import java.time.Duration;
import java.util.List;

/**
 * The per-export tunables: the {@code defaults:} section, which every export may override key by key.
 *
 * @param ioTimeout per request on a path (the driver's request timeout)
 * @param connectTimeout TCP connect plus handshake
 * @param connections connections per path when the backend allows several; 0 = one per event loop
 * @param transport transport-specific settings (the {@code iscsi:} sections); never null
 */
public record ExportSettings(
        String ioPolicy,
        Duration noPathTimeout,
        boolean queueIfNoPath,
        int maxRetries,
        Duration fenceDelay,
        Duration removalDelay,
        FailbackMode failback,
        Duration reconnectMin,
        Duration reconnectMax,
        Duration probeInterval,
        Duration retryDelay,
        Duration ioTimeout,
        Duration connectTimeout,
        int connections,
        TransportOptions transport) {

    /** The iopolicies the core implements, as named in config and the admin API. */
    public static final List<String> IO_POLICIES = IoPolicies.names();

    /** The config keys of these settings, in documentation order. */
    public static final List<String> KEYS = List.of("iopolicy", "no-path-timeout", "queue-if-no-path", "max-retries",
            "fence-delay", "removal-delay", "failback", "reconnect-min", "reconnect-max", "probe-interval",
            "retry-delay", "io-timeout", "connect-timeout", "connections");

    public ExportSettings {
        if (transport == null) {
            transport = TransportOptions.EMPTY;
        }
    }

    /** Settings without transport-specific options. */
    public ExportSettings(String ioPolicy, Duration noPathTimeout, boolean queueIfNoPath, int maxRetries,
            Duration fenceDelay, Duration removalDelay, FailbackMode failback, Duration reconnectMin,
            Duration reconnectMax, Duration probeInterval, Duration retryDelay, Duration ioTimeout,
            Duration connectTimeout, int connections) {
        this(ioPolicy, noPathTimeout, queueIfNoPath, maxRetries, fenceDelay, removalDelay, failback, reconnectMin,
                reconnectMax, probeInterval, retryDelay, ioTimeout, connectTimeout, connections,
                TransportOptions.EMPTY);
    }

    public static ExportSettings defaults() {
        return new ExportSettings("numa", Duration.ofSeconds(30), false, 8, Duration.ofMillis(50),
                Duration.ofSeconds(30), FailbackMode.IMMEDIATE, Duration.ofMillis(100), Duration.ofSeconds(10),
                Duration.ofSeconds(5), Duration.ofMillis(50), Duration.ofSeconds(5), Duration.ofSeconds(5), 0);
    }

    public ExportSettings withIoPolicy(String policy) {
        return new ExportSettings(policy, noPathTimeout, queueIfNoPath, maxRetries, fenceDelay, removalDelay,
                failback, reconnectMin, reconnectMax, probeInterval, retryDelay, ioTimeout, connectTimeout,
                connections, transport);
    }

    public ExportSettings withTransport(TransportOptions t) {
        return new ExportSettings(ioPolicy, noPathTimeout, queueIfNoPath, maxRetries, fenceDelay, removalDelay,
                failback, reconnectMin, reconnectMax, probeInterval, retryDelay, ioTimeout, connectTimeout,
                connections, t);
    }

    /** Driver options for this export's paths. */
    public DriverOptions driverOptions(int maxPayload, String expectedIdentity) {
        return new DriverOptions(connectTimeout, ioTimeout, connections, maxPayload, expectedIdentity, transport);
    }
}
