package io.mpathnbd.core.export;

/**
 * Whether an export can serve I/O now, for health checks and status: a load balancer or a compose health check must
 * not send clients to a disk that cannot do I/O, even though the gateway still accepts them and holds their requests.
 *
 * @param state what clients get now
 * @param usablePaths paths an iopolicy may choose now
 * @param paths paths the export has
 * @param reason why the state is not {@link State#SERVING}, one line on every path; null when serving
 */
public record ExportHealth(State state, int usablePaths, int paths, String reason) {

    public enum State {
        /** No path has connected yet: clients that attach wait up to attach-wait, then are refused. */
        NOT_READY("not-ready"),
        /** Some path is usable: requests are served. */
        SERVING("serving"),
        /** No usable path, but one may come back (reconnecting, removal delay): requests are held, then fail. */
        HOLDING("holding"),
        /** No usable path and none coming back without the operator: requests fail with EIO (after no-path-timeout). */
        UNAVAILABLE("unavailable");

        private final String label;

        State(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    public boolean serving() {
        return state == State.SERVING;
    }

    static ExportHealth of(DiskProfile disk, PathSet paths) {
        int usable = paths.usableCount();
        int all = paths.snapshot().length;
        if (!disk.ready()) {
            return new ExportHealth(State.NOT_READY, usable, all, "no path has connected yet: " + paths.summary());
        }
        if (usable > 0) {
            return new ExportHealth(State.SERVING, usable, all, null);
        }
        if (paths.mayComeBack()) {
            return new ExportHealth(State.HOLDING, 0, all, "no usable path, I/O is held while one may come back: "
                    + paths.summary());
        }
        return new ExportHealth(State.UNAVAILABLE, 0, all, "no usable path and none reconnecting: " + paths.summary());
    }
}
