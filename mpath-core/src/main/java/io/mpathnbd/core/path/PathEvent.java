package io.mpathnbd.core.path;

/**
 * A change a {@link Path} reports to its export: a state transition, or a change of whether it may be selected
 * ({@code from == to}: reinstated, access state changed).
 *
 * @param inFlight requests on the path at the moment of the change (the ones a failure fails over)
 * @param repeat the same failure reason as the path's previous failure (lets the export log repeats quietly)
 */
public record PathEvent(Path path, PathState from, PathState to, String reason, int inFlight, boolean repeat) {

    public boolean isStateChange() {
        return from != to;
    }

    /** A live path failed, whether or not it had requests in flight (an idle path whose backend went away). */
    public boolean isPathFailure() {
        return from == PathState.LIVE && to == PathState.FAILED;
    }

    /** A path that was carrying I/O failed: the export fails its requests in flight over to other paths. */
    public boolean isFailover() {
        return isPathFailure() && inFlight > 0;
    }
}
