package io.mpathnbd.core.backend;

/** ALUA-style access state of a path. Optimized paths are preferred; only the first two carry I/O. */
public enum AccessState {
    OPTIMIZED(true),
    NON_OPTIMIZED(true),
    STANDBY(false),
    UNAVAILABLE(false),
    OFFLINE(false),
    /** Changing state: requests are retried on the same path after a short delay, until the transition time ends. */
    TRANSITIONING(false);

    private final boolean carriesIo;

    AccessState(boolean carriesIo) {
        this.carriesIo = carriesIo;
    }

    public boolean carriesIo() {
        return carriesIo;
    }

    /** Lower-case, dash-separated name as used in config and the admin API. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
