package io.mpathnbd.server.config;

/**
 * The configuration (file or command-line flags) is wrong. The message names the key path and says why, e.g.
 * {@code exports[0].paths[1].uri: unsupported scheme 'foo' (supported: file, nbd)}.
 */
public class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
