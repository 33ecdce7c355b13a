package io.mpathnbd.core.policy;

import io.mpathnbd.core.backend.AccessState;
import io.mpathnbd.core.path.Path;
import java.util.List;
import java.util.Locale;

/** The iopolicies by name. Each export makes its own instance, so per-thread caches are per export. */
public final class IoPolicies {
    public static final String NUMA = "numa";
    public static final String ROUND_ROBIN = "round-robin";
    public static final String QUEUE_DEPTH = "queue-depth";
    public static final String SERVICE_TIME = "service-time";

    private static final List<String> NAMES = List.of(NUMA, ROUND_ROBIN, QUEUE_DEPTH, SERVICE_TIME);

    private IoPolicies() {
    }

    /** A new policy instance; {@link IllegalArgumentException} naming the valid policies for an unknown name. */
    public static IoPolicy create(String name) {
        String key = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        switch (key) {
            case NUMA:
                return new NumaPolicy();
            case ROUND_ROBIN:
                return new RoundRobinPolicy();
            case QUEUE_DEPTH:
                return new QueueDepthPolicy();
            case SERVICE_TIME:
                return new ServiceTimePolicy();
            default:
                throw new IllegalArgumentException(
                        "unknown iopolicy '" + name + "' (valid: " + String.join(", ", NAMES) + ")");
        }
    }

    /** Valid policy names, the default (numa) first. */
    public static List<String> names() {
        return NAMES;
    }

    /** A path a policy may choose for this request. */
    static boolean usable(Path p, Path exclude) {
        return p != exclude && p.selectable();
    }

    static boolean optimized(Path p) {
        return p.accessState() == AccessState.OPTIMIZED;
    }
}
