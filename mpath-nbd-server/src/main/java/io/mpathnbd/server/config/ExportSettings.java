package io.mpathnbd.server.config;

import io.mpathnbd.core.backend.DriverOptions;
import io.mpathnbd.core.backend.TransportOptions;
import io.mpathnbd.core.export.ExportConfig;
import io.mpathnbd.core.export.FailbackMode;
import io.mpathnbd.core.policy.IoPolicies;
import io.mpathnbd.server.access.ExportAccess;
import java.time.Duration;
import java.util.List;

/**
 * The per-export tunables: the {@code defaults:} section, which every export may override key by key.
 *
 * <p>The multipath settings live in a core {@link ExportConfig} used as a template (no name, description or
 * identity: those belong to one export), and the transport settings mirror {@link DriverOptions}; the defaults of
 * both are theirs, so each default value is written once, in the core.
 *
 * @param multipath the export's multipath settings (iopolicy, timeouts, retries, fence, failback, backoff); its
 *     name, description and expected identity are unused and null
 * @param ioTimeout per request on a path (the driver's request timeout)
 * @param connectTimeout TCP connect plus handshake
 * @param connections connections per path when the backend allows several; 0 = one per event loop
 * @param transport transport-specific settings (the {@code iscsi:} sections); never null
 * @param access who may attach and who may write ({@code read-only}, {@code allow}); never null
 * @param reservationKey the persistent reservation key registered on every path; never null
 * @param fenceByReservation {@code fence: reservation}: a failed path's in-doubt writes wait for its nexus to be
 *     preempted through a healthy path instead of the fence delay (which stays the fallback); needs a key
 */
public record ExportSettings(
        ExportConfig multipath,
        Duration ioTimeout,
        Duration connectTimeout,
        int connections,
        TransportOptions transport,
        ExportAccess access,
        ReservationKeySetting reservationKey,
        boolean fenceByReservation) {

    /** The iopolicies the core implements, as named in config and the admin API. */
    public static final List<String> IO_POLICIES = IoPolicies.names();

    /** The config keys of these settings, in documentation order. */
    public static final List<String> KEYS = List.of("iopolicy", "no-path-timeout", "queue-if-no-path", "max-retries",
            "fence-delay", "removal-delay", "failback", "reconnect-min", "reconnect-max", "probe-interval",
            "retry-delay", "io-timeout", "connect-timeout", "connections", "trim-resets-zones", ReservationKeySetting.KEY,
            ReservationKeySetting.FILE_KEY, "fence");

    /** The values of {@code fence}: the TCP reset plus fence-delay (the default), or the reservation fence. */
    public static final List<String> FENCE_MODES = List.of("delay", "reservation");

    public ExportSettings {
        if (transport == null) {
            transport = TransportOptions.EMPTY;
        }
        if (access == null) {
            access = ExportAccess.OPEN;
        }
        if (reservationKey == null) {
            reservationKey = ReservationKeySetting.NONE;
        }
    }

    /** The core's defaults: {@link ExportConfig#defaults} and {@link DriverOptions#defaults}. */
    public static ExportSettings defaults() {
        DriverOptions d = DriverOptions.defaults();
        return new ExportSettings(ExportConfig.defaults(null), d.requestTimeout(), d.connectTimeout(),
                d.connections(), d.transport(), ExportAccess.OPEN, ReservationKeySetting.NONE, false);
    }

    public String ioPolicy() {
        return multipath.ioPolicy();
    }

    public Duration noPathTimeout() {
        return multipath.noPathTimeout();
    }

    public boolean queueIfNoPath() {
        return multipath.queueIfNoPath();
    }

    public int maxRetries() {
        return multipath.maxRetries();
    }

    public Duration fenceDelay() {
        return multipath.fenceDelay();
    }

    public Duration removalDelay() {
        return multipath.removalDelay();
    }

    public FailbackMode failback() {
        return multipath.failback();
    }

    public Duration reconnectMin() {
        return multipath.reconnectMin();
    }

    public Duration reconnectMax() {
        return multipath.reconnectMax();
    }

    public Duration probeInterval() {
        return multipath.probeInterval();
    }

    public Duration retryDelay() {
        return multipath.retryDelay();
    }

    public ExportSettings withIoPolicy(String policy) {
        return new ExportSettings(multipath.withIoPolicy(policy), ioTimeout, connectTimeout, connections, transport,
                access, reservationKey, fenceByReservation);
    }

    public ExportSettings withTransport(TransportOptions t) {
        return new ExportSettings(multipath, ioTimeout, connectTimeout, connections, t, access, reservationKey,
                fenceByReservation);
    }

    public ExportSettings withAccess(ExportAccess a) {
        return new ExportSettings(multipath, ioTimeout, connectTimeout, connections, transport, a, reservationKey,
                fenceByReservation);
    }

    /** The core config of one export with these settings. */
    public ExportConfig exportConfig(String name, String description, String expectedIdentity) {
        ExportConfig m = multipath;
        return new ExportConfig(name, description, m.ioPolicy(), m.noPathTimeout(), m.queueIfNoPath(),
                m.maxRetries(), m.fenceDelay(), m.removalDelay(), m.failback(), m.reconnectMin(), m.reconnectMax(),
                m.probeInterval(), m.retryDelay(), expectedIdentity, m.trimResetsZones());
    }

    /** Driver options for this export's paths. */
    public DriverOptions driverOptions(int maxPayload, String expectedIdentity) {
        return new DriverOptions(connectTimeout, ioTimeout, connections, maxPayload, expectedIdentity, transport);
    }
}
