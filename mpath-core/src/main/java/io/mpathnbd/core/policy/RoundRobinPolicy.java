package io.mpathnbd.core.policy;

import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.request.BlockRequest;

/**
 * Starting after the submitting thread's current path: the first usable optimized path; failing that, the last
 * usable non-optimized path seen; the current path itself only when nothing better is found (it is kept if it is
 * optimized and no other optimized path is usable, or if it is the only usable path at all).
 */
final class RoundRobinPolicy implements IoPolicy {
    private final ThreadLocal<Path[]> current = ThreadLocal.withInitial(() -> new Path[1]);

    @Override
    public String name() {
        return IoPolicies.ROUND_ROBIN;
    }

    @Override
    public Path select(BlockRequest request, Path[] paths, Path exclude) {
        int n = paths.length;
        if (n == 0) {
            return null;
        }
        Path[] slot = current.get();
        Path old = slot[0];
        int start = -1;
        for (int i = 0; i < n; i++) {
            if (paths[i] == old) {
                start = i;
                break;
            }
        }
        Path found = null;
        for (int i = 1; i <= n; i++) {
            Path p = paths[(start + i) % n];
            if (p == old || !IoPolicies.usable(p, exclude)) {
                continue;
            }
            found = p;
            if (IoPolicies.optimized(p)) {
                break;
            }
        }
        if ((found == null || !IoPolicies.optimized(found)) && start >= 0 && IoPolicies.usable(old, exclude)
                && (IoPolicies.optimized(old) || found == null)) {
            found = old;
        }
        if (found != null) {
            slot[0] = found;
        }
        return found;
    }
}
