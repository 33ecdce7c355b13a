package io.mpathnbd.server;

/** The gateway could not start for a reason outside the config (e.g. its port is taken). */
public class GatewayStartException extends Exception {
    public GatewayStartException(String message, Throwable cause) {
        super(message, cause);
    }
}
