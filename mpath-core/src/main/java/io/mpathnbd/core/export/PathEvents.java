package io.mpathnbd.core.export;

import io.mpathnbd.core.backend.BackendInfo;
import io.mpathnbd.core.backend.Capability;
import io.mpathnbd.core.observe.ExportObserver;
import io.mpathnbd.core.path.Admission;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.path.PathEvent;
import io.mpathnbd.core.path.PathHost;
import io.mpathnbd.core.path.PathState;
import io.mpathnbd.core.time.Durations;
import io.mpathnbd.core.zone.ZoneLayout;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The export's side of its paths: admits their sessions through the {@link DiskProfile}, prepares them with the
 * {@link ControlSpread}'s admission steps, and on every path event keeps membership, readiness and held I/O in step,
 * logs the event once (every failover with its reason) and counts failovers.
 */
final class PathEvents implements PathHost {
    private static final Logger LOG = LoggerFactory.getLogger(Export.class); // log lines read as the export's

    private final Export export;
    private final ExportObserver observer;
    private final PathSet paths;
    private final DiskProfile disk;
    private final HoldQueue held;
    private final ControlSpread control;
    private final Timers timers;
    private final LongAdder failovers = new LongAdder();
    private final LongAdder pathFailures = new LongAdder();

    PathEvents(Export export, ExportObserver observer, PathSet paths, DiskProfile disk, HoldQueue held,
            ControlSpread control, Timers timers) {
        this.export = export;
        this.observer = observer;
        this.paths = paths;
        this.disk = disk;
        this.held = held;
        this.control = control;
        this.timers = timers;
    }

    long failovers() {
        return failovers.sum();
    }

    long pathFailures() {
        return pathFailures.sum();
    }

    @Override
    public String admit(Path path, BackendInfo info) {
        return disk.admit(path, info, null);
    }

    @Override
    public String admit(Path path, BackendInfo info, ZoneLayout zones) {
        return disk.admit(path, info, zones);
    }

    @Override
    public Admission admission(Path path) {
        return control.admission(path);
    }

    @Override
    public void pathEvent(PathEvent event) {
        Path p = event.path();
        boolean gone = event.to() == PathState.REMOVED && event.isStateChange();
        boolean lastGone = false;
        if (gone) {
            disk.forget(p);
            lastGone = paths.remove(p);
        } else {
            paths.republish();
        }
        boolean becameReady = disk.settle();
        log(event);
        if (event.isStateChange()) {
            observer.pathStateChanged(export.name(), p, event.from(), event.to(), event.reason());
        }
        if (event.isPathFailure()) {
            pathFailures.increment();
        }
        if (event.isFailover()) {
            failovers.increment();
            observer.failover(export.name(), p, event.reason());
        }
        if (gone) {
            observer.pathRemoved(export.name(), p);
            if (lastGone) {
                long delay = paths.removalDelayNanos();
                LOG.warn("export {}: last path removed; holding I/O for the removal delay of {}", export.name(),
                        Durations.format(delay));
                timers.schedule(this::removalDelayEnded, delay);
            }
        }
        if (becameReady) {
            disk.announce();
        }
        if (p.selectable()) {
            held.release(p);
        } else {
            held.reevaluate();
        }
    }

    private void removalDelayEnded() {
        if (paths.endRemovalDelay()) {
            LOG.warn("export {}: removal delay ended without a new path", export.name());
            held.reevaluate();
        }
    }

    private void log(PathEvent e) {
        String ex = export.name();
        Path p = e.path();
        if (!e.isStateChange() && e.to() != PathState.LIVE) {
            // not a transition (removal begins, the access state changes): the state's own line was logged already
            LOG.info("export {}: path {} ({}): {}", ex, p.id(), e.to().label(), e.reason());
            return;
        }
        switch (e.to()) {
            case LIVE:
                if (e.from() != PathState.LIVE) {
                    BackendInfo i = p.info();
                    LOG.info("export {}: path {} live ({}): {}; {} bytes, {}", ex, p.id(), p.uri(), e.reason(),
                            i == null ? 0 : i.size(), i == null ? "" : Capability.describe(i.capabilities()));
                } else {
                    LOG.info("export {}: path {}: {}", ex, p.id(), e.reason());
                }
                break;
            case FAILED:
                if (e.isFailover()) {
                    LOG.warn("export {}: path {} failed: {}; failing over {} requests", ex, p.id(), e.reason(),
                            e.inFlight());
                } else if (e.isPathFailure()) {
                    LOG.warn("export {}: path {} failed while idle: {}", ex, p.id(), e.reason());
                } else if (e.repeat()) {
                    LOG.debug("export {}: path {} still failing: {}", ex, p.id(), e.reason());
                } else {
                    LOG.warn("export {}: path {} ({}) down: {}", ex, p.id(), p.uri(), e.reason());
                }
                break;
            case REFUSED:
                if (e.repeat()) {
                    LOG.debug("export {}: path {} still refused: {}", ex, p.id(), e.reason());
                } else {
                    LOG.error("export {}: path {} ({}) REFUSED: {}", ex, p.id(), p.uri(), e.reason());
                }
                break;
            case CONNECTING:
                if (e.from() == PathState.FAILED || e.from() == PathState.REFUSED) {
                    LOG.debug("export {}: path {} {}", ex, p.id(), e.reason());
                } else {
                    LOG.info("export {}: path {} {} ({})", ex, p.id(), e.reason(), p.uri());
                }
                break;
            case DISABLED:
                LOG.warn("export {}: path {} {}; {} requests in flight drain before its session closes", ex,
                        p.id(), e.reason(), e.inFlight());
                break;
            case REMOVED:
                LOG.info("export {}: path {} removed ({})", ex, p.id(), e.reason());
                break;
            default:
                break;
        }
    }
}
