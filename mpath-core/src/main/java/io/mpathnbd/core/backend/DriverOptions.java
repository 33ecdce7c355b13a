package io.mpathnbd.core.backend;

import java.time.Duration;

/**
 * Transport tunables for one path; every field has a default (see {@link #defaults()}).
 *
 * @param connectTimeout TCP connect plus handshake/login
 * @param requestTimeout a request not answered within this is failed with {@link FailureKind#TIMEOUT} and the
 *     session is closed (a path that stops answering is a dead path)
 * @param connections connections per session when the target allows several (NBD CAN_MULTI_CONN); 0 = one per
 *     event loop
 * @param maxPayload upper bound for one request's payload sent to the backend (bytes)
 * @param expectedIdentity if set, a session whose disk identity differs is refused
 * @param transport transport-specific settings (iSCSI initiator name, CHAP, digests...); never null
 */
public record DriverOptions(
        Duration connectTimeout,
        Duration requestTimeout,
        int connections,
        int maxPayload,
        String expectedIdentity,
        TransportOptions transport) {

    public static final int DEFAULT_MAX_PAYLOAD = 32 * 1024 * 1024;

    public DriverOptions {
        if (transport == null) {
            transport = TransportOptions.EMPTY;
        }
    }

    /** Options without transport-specific settings. */
    public DriverOptions(Duration connectTimeout, Duration requestTimeout, int connections, int maxPayload,
            String expectedIdentity) {
        this(connectTimeout, requestTimeout, connections, maxPayload, expectedIdentity, TransportOptions.EMPTY);
    }

    public static DriverOptions defaults() {
        return new DriverOptions(Duration.ofSeconds(5), Duration.ofSeconds(5), 0, DEFAULT_MAX_PAYLOAD, null);
    }

    public DriverOptions withRequestTimeout(Duration d) {
        return new DriverOptions(connectTimeout, d, connections, maxPayload, expectedIdentity, transport);
    }

    public DriverOptions withConnectTimeout(Duration d) {
        return new DriverOptions(d, requestTimeout, connections, maxPayload, expectedIdentity, transport);
    }

    public DriverOptions withConnections(int n) {
        return new DriverOptions(connectTimeout, requestTimeout, n, maxPayload, expectedIdentity, transport);
    }

    public DriverOptions withMaxPayload(int n) {
        return new DriverOptions(connectTimeout, requestTimeout, connections, n, expectedIdentity, transport);
    }

    public DriverOptions withExpectedIdentity(String id) {
        return new DriverOptions(connectTimeout, requestTimeout, connections, maxPayload, id, transport);
    }

    public DriverOptions withTransport(TransportOptions t) {
        return new DriverOptions(connectTimeout, requestTimeout, connections, maxPayload, expectedIdentity, t);
    }
}
