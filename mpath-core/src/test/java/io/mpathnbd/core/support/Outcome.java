package io.mpathnbd.core.support;

import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.request.Extents;

/** How one request ended, as its client saw it. */
public record Outcome(BlockRequest request, boolean ok, int errno, String message, byte[] data, Extents extents,
        long completedNanos, String thread) {
}
