package io.mpathnbd.core.backend;

import java.util.Objects;

/**
 * The outcome of one control command (a reservation command, an admission step) on one path: a typed value, or a
 * {@link Failure} classified as the I/O path classifies its failures, so the export knows whether another path may
 * do better (PATH, TIMEOUT) or would answer the same (TARGET, RESERVATION_CONFLICT). Errors are values here too:
 * futures of control results complete normally.
 *
 * @param <T> the value's type; {@link Void} for commands that only succeed or fail
 */
public final class ControlResult<T> {
    private static final ControlResult<Void> OK = new ControlResult<>(null, null);

    private final T value;
    private final Failure failure;

    private ControlResult(T value, Failure failure) {
        this.value = value;
        this.failure = failure;
    }

    /** Success without a value. */
    public static ControlResult<Void> ok() {
        return OK;
    }

    public static <T> ControlResult<T> ok(T value) {
        return new ControlResult<>(Objects.requireNonNull(value, "value"), null);
    }

    public static <T> ControlResult<T> failed(Failure failure) {
        return new ControlResult<>(null, Objects.requireNonNull(failure, "failure"));
    }

    public boolean succeeded() {
        return failure == null;
    }

    /** The value of a success (null for {@code Void}); {@link IllegalStateException} for a failure. */
    public T value() {
        if (failure != null) {
            throw new IllegalStateException("no value: " + failure.message());
        }
        return value;
    }

    /** The failure, or null for a success. */
    public Failure failure() {
        return failure;
    }

    /** A failure the path is to blame for: another path may succeed. */
    public boolean isPathError() {
        return failure != null && failure.isPathError();
    }

    @Override
    public String toString() {
        return failure == null ? "ok" + (value == null ? "" : " " + value)
                : failure.kind() + " " + failure.message();
    }
}
