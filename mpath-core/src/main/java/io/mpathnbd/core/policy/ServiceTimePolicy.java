package io.mpathnbd.core.policy;

import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.BlockRequest;

/**
 * dm-multipath's service-time: the path minimising (bytes in flight + this request's size) / relative throughput,
 * ties going to the faster path. Optimized paths first, as for every policy here; non-optimized only when no
 * optimized path is usable.
 */
final class ServiceTimePolicy implements IoPolicy {

    @Override
    public String name() {
        return IoPolicies.SERVICE_TIME;
    }

    @Override
    public Path select(BlockRequest request, Path[] paths, Path exclude) {
        long size = transferSize(request);
        Path bestOptimized = null;
        double costOptimized = 0;
        Path bestOther = null;
        double costOther = 0;
        for (Path p : paths) {
            if (!IoPolicies.usable(p, exclude)) {
                continue;
            }
            double cost = (p.inFlightBytes() + size) / p.relativeThroughput();
            if (IoPolicies.optimized(p)) {
                if (bestOptimized == null || better(cost, p, costOptimized, bestOptimized)) {
                    bestOptimized = p;
                    costOptimized = cost;
                }
            } else if (bestOther == null || better(cost, p, costOther, bestOther)) {
                bestOther = p;
                costOther = cost;
            }
        }
        return bestOptimized != null ? bestOptimized : bestOther;
    }

    private static boolean better(double cost, Path p, double bestCost, Path best) {
        return cost < bestCost || (cost == bestCost && p.relativeThroughput() > best.relativeThroughput());
    }

    private static long transferSize(BlockRequest request) {
        if (request == null) {
            return 0;
        }
        BlockOp op = request.op();
        return op == BlockOp.READ || op == BlockOp.WRITE ? request.length() : 0;
    }
}
