package io.mpathnbd.core.policy;

import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.request.BlockRequest;

/**
 * The optimized path with the fewest requests in flight (an idle one ends the search); when no optimized path is
 * usable, the least-loaded non-optimized one.
 */
final class QueueDepthPolicy implements IoPolicy {

    @Override
    public String name() {
        return IoPolicies.QUEUE_DEPTH;
    }

    @Override
    public Path select(BlockRequest request, Path[] paths, Path exclude) {
        Path bestOptimized = null;
        int minOptimized = Integer.MAX_VALUE;
        Path bestOther = null;
        int minOther = Integer.MAX_VALUE;
        for (Path p : paths) {
            if (!IoPolicies.usable(p, exclude)) {
                continue;
            }
            int depth = p.inFlight();
            if (IoPolicies.optimized(p)) {
                if (depth < minOptimized) {
                    minOptimized = depth;
                    bestOptimized = p;
                    if (depth == 0) {
                        break;
                    }
                }
            } else if (depth < minOther) {
                minOther = depth;
                bestOther = p;
            }
        }
        return bestOptimized != null ? bestOptimized : bestOther;
    }
}
