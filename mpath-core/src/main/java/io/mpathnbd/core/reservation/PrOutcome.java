package io.mpathnbd.core.reservation;

import io.mpathnbd.core.backend.Failure;
import java.util.List;

/**
 * What a persistent reservation command of the export got: success or the failure to report, each path's own
 * answer when the command went to every path, and a note for the operator (e.g. "already held by our key").
 *
 * @param value the read data (keys, reservation, capabilities), or null
 * @param failure null on success
 * @param paths each path reached and its answer, in the export's order; empty for one-path commands
 * @param note null, or what the operator should know about a success
 */
public record PrOutcome<T>(T value, Failure failure, List<PathAnswer> paths, String note) {

    public PrOutcome {
        paths = List.copyOf(paths);
    }

    /** One path's answer: {@code ok}, or why it failed. */
    public record PathAnswer(String path, String result) {
    }

    static <T> PrOutcome<T> ok(T value, String note) {
        return new PrOutcome<>(value, null, List.of(), note);
    }

    static <T> PrOutcome<T> failed(Failure failure) {
        return new PrOutcome<>(null, failure, List.of(), null);
    }

    public boolean succeeded() {
        return failure == null;
    }
}
