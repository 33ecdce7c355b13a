package io.mpathnbd.server.frontend;

import java.time.Duration;

/**
 * Limits that protect the gateway from clients (each has a config key under {@code limits:}).
 *
 * @param maxPayload largest READ/WRITE payload accepted (bytes); the spec asks servers to accept 32 MiB
 * @param maxOptionLength largest handshake option payload; longer options are answered ERR_TOO_BIG
 * @param maxOptions options one connection may send before GO/EXPORT_NAME; past that it is closed
 * @param handshakeTimeout a connection must reach transmission within this, or it is closed
 * @param idleTimeout a connection with no request in flight and no traffic for this long is closed (zero: never)
 * @param maxConnections client connections accepted at once; further ones are closed at once
 */
public record FrontendLimits(
        int maxPayload,
        int maxOptionLength,
        int maxOptions,
        Duration handshakeTimeout,
        Duration idleTimeout,
        int maxConnections) {

    public static FrontendLimits defaults() {
        return new FrontendLimits(32 * 1024 * 1024, 64 * 1024, 64, Duration.ofSeconds(10), Duration.ZERO, 4096);
    }
}
