package io.mpathnbd.core.path;

/** Connection state of a path, owned by the path itself. */
public enum PathState {
    /** Opening a session (first time or after a failure). */
    CONNECTING,
    /** Session open and checked: carries I/O if its access state allows. */
    LIVE,
    /** Session lost; waiting for the next reconnect attempt (exponential backoff with jitter). */
    FAILED,
    /** Failed by the operator; stays down until reinstated. */
    DISABLED,
    /** Refused: the target is reachable but wrong (different disk, size, bad credentials); retried slowly. */
    REFUSED,
    /** Removed from its export; terminal. */
    REMOVED;

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
