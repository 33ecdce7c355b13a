package io.mpathnbd.server.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.mpathnbd.core.export.Export;
import io.mpathnbd.core.observe.ExportObserver;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.request.BlockOp;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** Counts one export's events and keeps the meters of its paths; the core calls it as the export's observer. */
public final class ExportMetrics implements ExportObserver {
    private final MeterRegistry registry;
    private final String export;
    private final Tags tags;
    private final Counter failovers;
    private final Counter requeues;
    private final Counter held;
    private final Counter accessRefused;
    private final AtomicInteger clients = new AtomicInteger();
    private final List<Meter> exportMeters = new ArrayList<>();
    // keyed by identity: a removed path and a new one with the same id are different paths
    private final Map<Path, PathMeters> paths = new ConcurrentHashMap<>();

    ExportMetrics(MeterRegistry registry, String export) {
        this.registry = registry;
        this.export = export;
        this.tags = Tags.of("export", export);
        failovers = keep(Counter.builder(MeterNames.EXPORT_FAILOVERS).tags(tags)
                .description("Failover events: a path failed while it carried requests, which left for another").register(registry));
        requeues = keep(Counter.builder(MeterNames.EXPORT_REQUEUES).tags(tags)
                .description("Requests sent back through the iopolicy after a path error").register(registry));
        held = keep(Counter.builder(MeterNames.EXPORT_HELD).tags(tags)
                .description("Requests parked because no path could take them").register(registry));
        accessRefused = keep(Counter.builder(MeterNames.EXPORT_ACCESS_REFUSED).tags(tags)
                .description("Handshake options for the export its allow list refused").register(registry));
        keep(Gauge.builder(MeterNames.EXPORT_CLIENTS, clients, AtomicInteger::get).tags(tags)
                .description("Clients attached to the export").register(registry));
    }

    /** Adds the gauges that read the export itself, once it exists. */
    public void bind(Export e) {
        keep(Gauge.builder(MeterNames.EXPORT_HELD_NOW, e, Export::held).tags(tags).strongReference(true)
                .description("Requests currently parked waiting for a usable path").register(registry));
        keep(Gauge.builder(MeterNames.EXPORT_READY, e, x -> x.ready() ? 1 : 0).tags(tags).strongReference(true)
                .description("1 once the export's disk geometry is known and it serves clients").register(registry));
        keep(Gauge.builder(MeterNames.EXPORT_USABLE_PATHS, e, x -> x.health().usablePaths()).tags(tags)
                .strongReference(true).description("Paths an iopolicy may choose now; 0: I/O is held or fails")
                .register(registry));
        keep(FunctionCounter.builder(MeterNames.EXPORT_PATH_FAILURES, e, Export::pathFailures).tags(tags)
                .description("Live paths that failed, with or without requests in flight").register(registry));
        // zoned exports only count these; a plain export's stay 0
        keep(FunctionCounter.builder(MeterNames.EXPORT_ZONE_RESETS, e, x -> x.zoneControl().resets()).tags(tags)
                .description("Zone reset commands (one zone, or one RESET ALL) that succeeded").register(registry));
        keep(FunctionCounter.builder(MeterNames.EXPORT_UNALIGNED_WRITE_REFUSALS, e, Export::unalignedWriteRefusals)
                .tags(tags).description("Writes to a sequential zone refused before any backend: not at the write "
                        + "pointer").register(registry));
        keep(FunctionCounter.builder(MeterNames.EXPORT_RESERVATION_CONFLICTS, e, Export::reservationConflicts)
                .tags(tags).description("Requests the disk refused with RESERVATION CONFLICT (fenced by a"
                        + " reservation): EPERM to the client, no path failed").register(registry));
        keep(FunctionCounter.builder(MeterNames.EXPORT_RESERVATION_FENCES, e, Export::storageFences).tags(tags)
                .description("Failed paths with writes in doubt whose nexus was preempted through a healthy path"
                        + " (fence: reservation) before the writes were retried elsewhere").register(registry));
        keep(FunctionCounter.builder(MeterNames.EXPORT_RESERVATION_FENCE_FALLBACKS, e, Export::storageFenceFallbacks)
                .tags(tags).description("Failed paths with writes in doubt that fence: reservation could not"
                        + " fence: their writes waited for the fence delay instead").register(registry));
    }

    private <M extends Meter> M keep(M meter) {
        synchronized (exportMeters) {
            exportMeters.add(meter);
        }
        return meter;
    }

    @Override
    public void requestCompleted(Path path, BlockOp op, int bytes, long nanos, boolean failed) {
        PathMeters m = paths.get(path);
        if (m == null) {
            m = meters(path); // a path whose pathAdded we did not see; once per path
        }
        m.record(op, nanos, failed);
    }

    @Override
    public void failover(String export, Path from, String reason) {
        failovers.increment();
    }

    @Override
    public void requeued(String export, Path from) {
        requeues.increment();
    }

    @Override
    public void held(String export) {
        held.increment();
    }

    @Override
    public void pathAdded(String export, Path path) {
        meters(path);
    }

    @Override
    public void pathRemoved(String export, Path path) {
        PathMeters m = paths.remove(path);
        if (m != null) {
            m.remove();
        }
    }

    private PathMeters meters(Path path) {
        return paths.computeIfAbsent(path, p -> new PathMeters(registry, export, p));
    }

    void clientAttached() {
        clients.incrementAndGet();
    }

    void clientDetached() {
        clients.decrementAndGet();
    }

    void accessRefused() {
        accessRefused.increment();
    }

    /** Unregisters every meter of this export and its paths. */
    void remove() {
        paths.values().forEach(PathMeters::remove);
        paths.clear();
        synchronized (exportMeters) {
            exportMeters.forEach(registry::remove);
            exportMeters.clear();
        }
    }
}
