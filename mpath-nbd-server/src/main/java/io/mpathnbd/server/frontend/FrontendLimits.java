package io.mpathnbd.server.frontend;

import java.time.Duration;

/**
 * Limits that protect the gateway from clients (each has a config key under {@code limits:}).
 *
 * @param maxPayload largest READ/WRITE payload accepted (bytes); the spec asks servers to accept 32 MiB
 * @param maxOptionLength largest handshake option payload; longer options are answered ERR_TOO_BIG
 * @param maxOptions options one connection may send before GO/EXPORT_NAME; past that it is closed
 * @param handshakeTimeout a connection must reach transmission within this, or it is closed (the attach wait below
 *     does not count towards it)
 * @param idleTimeout a connection with no request in flight and no traffic for this long is closed (zero: never)
 * @param maxConnections client connections accepted at once; further ones are closed at once
 * @param attachWait how long GO, INFO or EXPORT_NAME for an export that has no usable path yet waits for one before it
 *     is refused (zero: refused at once)
 * @param payloadTimeout a WRITE's payload must have arrived this long after its header, or the connection is closed
 *     (zero: no bound)
 * @param maxConnectionsPerAddress client connections from one IP address at once (zero: no limit of its own)
 */
public record FrontendLimits(
        int maxPayload,
        int maxOptionLength,
        int maxOptions,
        Duration handshakeTimeout,
        Duration idleTimeout,
        int maxConnections,
        Duration attachWait,
        Duration payloadTimeout,
        int maxConnectionsPerAddress) {

    public static final Duration DEFAULT_ATTACH_WAIT = Duration.ofSeconds(30);
    public static final Duration DEFAULT_PAYLOAD_TIMEOUT = Duration.ofSeconds(30);

    public static FrontendLimits defaults() {
        return new FrontendLimits(32 * 1024 * 1024, 64 * 1024, 64, Duration.ofSeconds(10), Duration.ZERO, 4096,
                DEFAULT_ATTACH_WAIT, DEFAULT_PAYLOAD_TIMEOUT, 0);
    }

    public FrontendLimits withIdleTimeout(Duration idle) {
        return new FrontendLimits(maxPayload, maxOptionLength, maxOptions, handshakeTimeout, idle, maxConnections,
                attachWait, payloadTimeout, maxConnectionsPerAddress);
    }

    public FrontendLimits withConnections(int max, int perAddress) {
        return new FrontendLimits(maxPayload, maxOptionLength, maxOptions, handshakeTimeout, idleTimeout, max,
                attachWait, payloadTimeout, perAddress);
    }

    public FrontendLimits withAttachWait(Duration wait) {
        return new FrontendLimits(maxPayload, maxOptionLength, maxOptions, handshakeTimeout, idleTimeout,
                maxConnections, wait, payloadTimeout, maxConnectionsPerAddress);
    }

    public FrontendLimits withPayloadTimeout(Duration timeout) {
        return new FrontendLimits(maxPayload, maxOptionLength, maxOptions, handshakeTimeout, idleTimeout,
                maxConnections, attachWait, timeout, maxConnectionsPerAddress);
    }
}
