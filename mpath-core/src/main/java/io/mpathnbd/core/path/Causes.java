package io.mpathnbd.core.path;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Failure causes of connects and probes, as a path reports them. */
final class Causes {

    private Causes() {
    }

    /** The cause behind a future's wrapping exceptions. */
    static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** The message, or the exception's name when it has none. */
    static String describe(Throwable t) {
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
    }
}
