package io.mpathnbd.core.export;

import io.mpathnbd.core.backend.AccessState;
import io.mpathnbd.core.backend.BackendSession;
import io.mpathnbd.core.backend.ControlResult;
import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.path.Admission;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.path.PathSession;
import io.mpathnbd.core.path.PathState;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.core.time.Durations;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledFuture;

/**
 * The three ways a control command travels over the export's paths, as mpathpersist spreads persistent reservation
 * commands over dm-multipath's:
 * <ul>
 *   <li>{@link #throughOne}: through one live path, the next one on a path error (RESERVE, PREEMPT, CLEAR);</li>
 *   <li>{@link #toEveryLive}: to every live path at once, each path's answer kept (REGISTER, RELEASE);</li>
 *   <li>{@link #onAdmit}: to every session that becomes live later (reconnect, path add), before it carries I/O: the
 *       steps run as the path's {@link Admission}.</li>
 * </ul>
 * A client FLUSH travels here too ({@link #flush}): to every usable path that needs it, as I/O requests of the
 * dispatcher rather than steps, so a leg meeting a path error moves on like any request. Every mode picks paths by
 * {@link #usable} and gathers several answers with {@link Legs}.
 *
 * <p>A path error (PATH, TIMEOUT) means the nexus was lost or did not answer: the path is failed, as a request with
 * that error fails it, so it reconnects and runs the admission steps before it carries I/O again. A target error is
 * the disk's answer, which any path would give: it fails no path and moves nowhere. "Live" means {@link #usable}.
 *
 * <p>A step added while a session is being admitted does not reach that session; whoever changes what the steps do
 * while the export runs must also reach such sessions (issue 13's reservation code orders this). Not the hot path:
 * commands here allocate freely.
 */
public final class ControlSpread {
    /** Selectable paths first (nearest optimized first), then live ones the iopolicy skips now. */
    private static final Comparator<Path> PREFERENCE = Comparator.comparing((Path p) -> !p.selectable())
            .thenComparing(p -> p.accessState() != AccessState.OPTIMIZED)
            .thenComparingInt(Path::distance);

    private final String exportName;
    private final PathSet paths;
    private final Dispatcher dispatcher;
    private final Timers timers;
    private final CopyOnWriteArrayList<AdmitStep> admitSteps = new CopyOnWriteArrayList<>();

    ControlSpread(String exportName, PathSet paths, Dispatcher dispatcher, Timers timers) {
        this.exportName = exportName;
        this.paths = paths;
        this.dispatcher = dispatcher;
        this.timers = timers;
    }

    /**
     * Whether {@code p} can take a command now: LIVE with a session, selected or not (awaiting reinstate, standby):
     * such a path may carry I/O again without a new session, so without a new admission, and must not be skipped.
     */
    static boolean usable(Path p) {
        return p.state() == PathState.LIVE && p.session() != null;
    }

    // ------------------------------------------------------------ a client FLUSH

    /** Sends a client FLUSH to every usable path with unflushed writes (see {@link FlushFanout}). Hot path. */
    void flush(BlockRequest request) {
        FlushFanout.flush(request, paths.snapshot(), dispatcher);
    }

    // ------------------------------------------------------------ through one path

    /**
     * Runs {@code step} on one live path; on a path error that path is failed and the next one tried. Completes with
     * the first success or target error; with a path error when every live path met one or none was live.
     *
     * @param what the command's name, for messages
     */
    public <T> CompletableFuture<ControlResult<T>> throughOne(String what, ControlStep<T> step) {
        Path[] order = live();
        Arrays.sort(order, PREFERENCE); // stable: the export's order among equals
        CompletableFuture<ControlResult<T>> result = new CompletableFuture<>();
        tryFrom(0, order, what, step, null, result);
        return result;
    }

    private <T> void tryFrom(int from, Path[] order, String what, ControlStep<T> step, String lastError,
            CompletableFuture<ControlResult<T>> result) {
        for (int i = from; i < order.length; i++) {
            Path p = order[i];
            PathSession ps = p.session();
            if (ps == null || !usable(p)) {
                continue; // failed meanwhile, perhaps by an earlier try
            }
            int next = i + 1;
            runOn(p, ps, what, step).thenAccept(r -> {
                if (r.isPathError()) {
                    tryFrom(next, order, what, step, "path " + p.id() + ": " + r.failure().message(), result);
                } else {
                    result.complete(r);
                }
            });
            return;
        }
        result.complete(ControlResult.failed(lastError == null ? noLivePath(what)
                : Failure.path(what + " failed on every live path of export " + exportName + "; last: "
                        + lastError)));
    }

    // ------------------------------------------------------------ every live path

    /**
     * Runs {@code step} on every live path at once. Completes when each has answered, with every path's result; the
     * failure to report, if any, as {@link Legs} chooses it (a path error when no path was live).
     */
    public <T> CompletableFuture<Answers<T>> toEveryLive(String what, ControlStep<T> step) {
        Path[] live = live();
        PathSession[] sessions = new PathSession[live.length];
        int n = 0;
        for (Path p : live) {
            PathSession ps = p.session();
            if (ps != null) {
                live[n] = p;
                sessions[n++] = ps;
            }
        }
        if (n == 0) {
            return CompletableFuture.completedFuture(new Answers<>(List.of(), noLivePath(what)));
        }
        Gather<T> gather = new Gather<>(Arrays.copyOf(live, n));
        for (int i = 0; i < n; i++) {
            int leg = i;
            runOn(live[i], sessions[i], what, step).thenAccept(r -> gather.answer(leg, r));
        }
        return gather.result;
    }

    /** Each path's answer, kept in its slot; the last to arrive completes the command. */
    private static final class Gather<T> extends Legs {
        final Path[] targets;
        final ControlResult<T>[] results;
        final CompletableFuture<Answers<T>> result = new CompletableFuture<>();

        @SuppressWarnings("unchecked")
        Gather(Path[] targets) {
            super(targets.length);
            this.targets = targets;
            this.results = new ControlResult[targets.length];
        }

        void answer(int leg, ControlResult<T> r) {
            results[leg] = r; // published to the last leg by Legs' countdown
            if (r.succeeded()) {
                legSucceeded();
            } else {
                Failure f = r.failure();
                legFailed(new Failure(f.kind(), f.errno(), "path " + targets[leg].id() + ": " + f.message()));
            }
        }

        @Override
        void done(Failure failure) {
            List<Answer<T>> answers = new ArrayList<>(targets.length);
            for (int i = 0; i < targets.length; i++) {
                answers.add(new Answer<>(targets[i], results[i]));
            }
            result.complete(new Answers<>(Collections.unmodifiableList(answers), failure));
        }
    }

    /** One path's result of a command sent to every live path. */
    public record Answer<T>(Path path, ControlResult<T> result) {
    }

    /**
     * What a command sent to every live path got back.
     *
     * @param answers each path's result, in the export's path order
     * @param failure the failure to report, or null when every path succeeded
     */
    public record Answers<T>(List<Answer<T>> answers, Failure failure) {
        public boolean succeeded() {
            return failure == null;
        }

        /** Success, or the failure to report. */
        public ControlResult<Void> result() {
            return failure == null ? ControlResult.ok() : ControlResult.failed(failure);
        }
    }

    // ------------------------------------------------------------ every path that becomes live later

    /**
     * Runs {@code step} on every new session of every path, after the export's check and before the session carries
     * I/O; steps run in the order added, the first failure ending the admission (a path error: the path reconnects;
     * else it is refused and says why). Sessions already live are the caller's to reach ({@link #toEveryLive}).
     */
    public void onAdmit(String what, ControlStep<Void> step) {
        admitSteps.add(new AdmitStep(Objects.requireNonNull(what, "what"), Objects.requireNonNull(step, "step")));
    }

    /** Stops running {@code step} on new sessions; false if it was not there. */
    public boolean removeOnAdmit(ControlStep<Void> step) {
        return admitSteps.removeIf(s -> s.step() == step);
    }

    /** The admission for a new session of {@code path}, or null when no step is registered. Path lock held. */
    Admission admission(Path path) {
        AdmitStep[] steps = admitSteps.toArray(new AdmitStep[0]);
        if (steps.length == 0) {
            return null;
        }
        return session -> admitFrom(0, steps, path, session);
    }

    private static CompletableFuture<ControlResult<Void>> admitFrom(int i, AdmitStep[] steps, Path path,
            BackendSession session) {
        if (i == steps.length) {
            return CompletableFuture.completedFuture(ControlResult.ok());
        }
        AdmitStep s = steps[i];
        return start(s.what(), s.step(), path, session).thenCompose(r -> {
            if (r.succeeded()) {
                return admitFrom(i + 1, steps, path, session);
            }
            Failure f = r.failure();
            return CompletableFuture.completedFuture(
                    ControlResult.failed(new Failure(f.kind(), f.errno(), s.what() + ": " + f.message())));
        });
    }

    private record AdmitStep(String what, ControlStep<Void> step) {
    }

    // ------------------------------------------------------------ one leg

    /**
     * Runs {@code step} on a live path's session, bounded like a connect attempt (twice the request timeout plus a
     * second) in case the backend's own timeout never fires; a path error fails that session. Completes normally.
     */
    private <T> CompletableFuture<ControlResult<T>> runOn(Path p, PathSession ps, String what, ControlStep<T> step) {
        long bound = p.config().driverOptions().requestTimeout().multipliedBy(2).plusSeconds(1).toNanos();
        CompletableFuture<ControlResult<T>> leg = new CompletableFuture<>();
        ScheduledFuture<?> guard = timers.schedule(() -> leg.complete(ControlResult.failed(Failure.timeout(
                what + " did not complete within " + Durations.format(bound)))), bound);
        start(what, step, p, ps.backend()).thenAccept(leg::complete);
        return leg.thenApply(r -> {
            if (guard != null) {
                guard.cancel(false);
            }
            if (r.isPathError()) {
                String why = what + " failed: " + r.failure().message();
                p.noteError(why);
                p.fail(ps, why);
            }
            return r;
        });
    }

    /** Starts {@code step}; a step that throws or fails its future is reported as a target error (a bug). */
    private static <T> CompletableFuture<ControlResult<T>> start(String what, ControlStep<T> step, Path p,
            BackendSession s) {
        CompletableFuture<ControlResult<T>> f;
        try {
            f = step.run(p, s);
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        if (f == null) {
            f = CompletableFuture.failedFuture(new IllegalStateException("the step returned no future"));
        }
        return f.handle((r, e) -> {
            if (r != null && e == null) {
                return r;
            }
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            return ControlResult.failed(Failure.target(Errno.EIO,
                    what + " failed: " + (cause == null ? "no result" : cause.toString())));
        });
    }

    /**
     * Usable paths in the export's order (a fresh array the caller may reorder), less those being removed: a
     * command's effect on a leaving path would outlive nothing. A FLUSH still reaches them, as they hold writes.
     */
    private Path[] live() {
        Path[] snapshot = paths.snapshot();
        List<Path> live = new ArrayList<>(snapshot.length);
        for (Path p : snapshot) {
            if (usable(p) && !p.removing()) {
                live.add(p);
            }
        }
        return live.toArray(new Path[0]);
    }

    private Failure noLivePath(String what) {
        return Failure.path(what + ": export " + exportName + " has no live path (" + paths.summary() + ")");
    }
}
