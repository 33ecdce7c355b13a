package io.mpathnbd.server.cli;

/** A command failed for a reason the user can act on; printed as "mpath-nbd: MESSAGE". */
public class CliException extends RuntimeException {
    private final int exitCode;

    /** A run-time failure (exit code 1). */
    public CliException(String message) {
        this(message, null, Main.EXIT_RUNTIME);
    }

    public CliException(String message, Throwable cause) {
        this(message, cause, Main.EXIT_RUNTIME);
    }

    public CliException(String message, Throwable cause, int exitCode) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    /** A wrong argument (exit code 2). */
    static CliException usage(String message) {
        return new CliException(message, null, Main.EXIT_USAGE);
    }

    public int exitCode() {
        return exitCode;
    }
}
