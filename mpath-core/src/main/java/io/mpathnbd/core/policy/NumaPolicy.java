package io.mpathnbd.core.policy;

import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.request.BlockRequest;

/**
 * The kernel's default: every submitting thread (an event loop, the gateway's "node") keeps its current path and
 * uses it while it stays usable; otherwise it takes the nearest optimized path by configured distance, else the
 * nearest non-optimized one; between equally near paths, one whose session runs on the caller's loop (saves two
 * thread hops per request). The export publishes a new path array whenever a path changes state, so a cache made for
 * another array is stale (a nearer path may have come back).
 */
final class NumaPolicy implements IoPolicy {
    private final ThreadLocal<Current> current = ThreadLocal.withInitial(Current::new);

    private static final class Current {
        Path[] snapshot;
        Path path;
    }

    @Override
    public String name() {
        return IoPolicies.NUMA;
    }

    @Override
    public Path select(BlockRequest request, Path[] paths, Path exclude) {
        Current c = current.get();
        Path cached = c.path;
        if (c.snapshot == paths && cached != null && IoPolicies.usable(cached, exclude)) {
            return cached;
        }
        Path chosen = nearest(paths, exclude);
        c.snapshot = paths;
        c.path = chosen;
        return chosen;
    }

    private static Path nearest(Path[] paths, Path exclude) {
        Path bestOptimized = null;
        Path bestOther = null;
        for (Path p : paths) {
            if (!IoPolicies.usable(p, exclude)) {
                continue;
            }
            if (IoPolicies.optimized(p)) {
                if (nearer(p, bestOptimized)) {
                    bestOptimized = p;
                }
            } else if (nearer(p, bestOther)) {
                bestOther = p;
            }
        }
        return bestOptimized != null ? bestOptimized : bestOther;
    }

    /** Whether p beats best: nearer, or as near and on the caller's loop where best is not. */
    private static boolean nearer(Path p, Path best) {
        return best == null || p.distance() < best.distance()
                || (p.distance() == best.distance() && p.onCallerLoop() && !best.onCallerLoop());
    }
}
