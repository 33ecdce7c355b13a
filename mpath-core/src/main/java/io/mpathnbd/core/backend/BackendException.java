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

    /**
     * A cause for a log line or a path's last error: its message, or its kind when it has none (a bare
     * {@code IOException} from the socket layer, which would otherwise read "null").
     */
    public static String describe(Throwable cause) {
        if (cause == null) {
            return "unknown cause";
        }
        String m = cause.getMessage();
        return m == null || m.isBlank() ? cause.getClass().getSimpleName() : m;
    }

    /** True when the target refuses us for a reason that retrying cannot fix (wrong export name, bad credentials). */
    public boolean isConfigurationError() {
        return configurationError;
    }
}
