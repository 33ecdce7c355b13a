package io.mpathnbd.core.backend;

/** A backend could not be opened. Carries whether retrying makes sense. */
public class BackendException extends RuntimeException {
    private final boolean configurationError;

    public BackendException(String message) {
        this(message, false, null);
    }

    public BackendException(String message, Throwable cause) {
        this(message, false, cause);
    }

    public BackendException(String message, boolean configurationError, Throwable cause) {
        super(message, cause);
        this.configurationError = configurationError;
    }

    /** True when the target refuses us for a reason that retrying cannot fix (wrong export name, bad credentials). */
    public boolean isConfigurationError() {
        return configurationError;
    }
}
