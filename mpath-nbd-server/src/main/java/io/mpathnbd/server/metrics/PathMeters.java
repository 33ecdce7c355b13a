package io.mpathnbd.server.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.mpathnbd.core.backend.AccessState;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.path.PathState;
import io.mpathnbd.core.request.BlockOp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The meters of one path, created once when the path appears. Per-request recording indexes arrays by operation
 * ordinal: no tag building, lookup or allocation on the hot path.
 */
final class PathMeters {
    private final Counter[] ok;
    private final Counter[] failed;
    private final Timer[] latency;
    private final List<Meter> all = new ArrayList<>();
    private final MeterRegistry registry;

    PathMeters(MeterRegistry registry, String export, Path path) {
        this.registry = registry;
        Tags tags = Tags.of("export", export, "path", path.id());
        int n = BlockOp.count();
        ok = new Counter[n];
        failed = new Counter[n];
        latency = new Timer[n];
        for (int i = 0; i < n; i++) {
            Tags opTags = tags.and("op", BlockOp.ofOrdinal(i).name().toLowerCase(Locale.ROOT));
            ok[i] = keep(Counter.builder(MeterNames.PATH_REQUESTS).tags(opTags).tag("outcome", "ok")
                    .description("Requests finished on a path, by operation and outcome").register(registry));
            failed[i] = keep(Counter.builder(MeterNames.PATH_REQUESTS).tags(opTags).tag("outcome", "error")
                    .description("Requests finished on a path, by operation and outcome").register(registry));
            latency[i] = keep(Timer.builder(MeterNames.PATH_REQUEST_LATENCY).tags(opTags)
                    .description("Time from sending a request on a path to its answer")
                    .publishPercentileHistogram()
                    .minimumExpectedValue(Duration.ofNanos(20_000))
                    .maximumExpectedValue(Duration.ofSeconds(30))
                    .register(registry));
        }
        keep(Gauge.builder(MeterNames.PATH_INFLIGHT, path, Path::inFlight).tags(tags).strongReference(true)
                .description("Requests sent on a path and not yet answered").register(registry));
        keep(FunctionCounter.builder(MeterNames.PATH_ERRORS, path, p -> p.errors()).tags(tags)
                .description("Failed requests and connection failures of a path").register(registry));
        keep(FunctionCounter.builder(MeterNames.PATH_READ_BYTES, path, p -> p.bytesRead()).tags(tags)
                .baseUnit("bytes").description("Bytes read through a path").register(registry));
        keep(FunctionCounter.builder(MeterNames.PATH_WRITTEN_BYTES, path, p -> p.bytesWritten()).tags(tags)
                .baseUnit("bytes").description("Bytes written through a path").register(registry));
        for (PathState s : PathState.values()) {
            keep(Gauge.builder(MeterNames.PATH_STATE, path, p -> p.state() == s ? 1 : 0).tags(tags)
                    .tag("state", s.label()).strongReference(true)
                    .description("1 for the path's current connection state, else 0").register(registry));
        }
        for (AccessState s : AccessState.values()) {
            keep(Gauge.builder(MeterNames.PATH_ACCESS_STATE, path, p -> p.accessState() == s ? 1 : 0).tags(tags)
                    .tag("state", s.label()).strongReference(true)
                    .description("1 for the path's current access state, else 0").register(registry));
        }
    }

    private <M extends Meter> M keep(M meter) {
        all.add(meter);
        return meter;
    }

    /** Hot path: called once per finished attempt. */
    void record(BlockOp op, long nanos, boolean error) {
        int i = op.ordinal();
        (error ? failed[i] : ok[i]).increment();
        latency[i].record(nanos, TimeUnit.NANOSECONDS);
    }

    /** Unregisters every meter of the path (it was removed from its export). */
    void remove() {
        for (Meter m : all) {
            registry.remove(m);
        }
    }
}
