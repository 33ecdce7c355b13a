package io.mpathnbd.core.export;

import io.mpathnbd.core.backend.ControlResult;
import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.zone.Zone;
import io.mpathnbd.core.zone.ZoneAction;
import io.mpathnbd.core.zone.ZoneError;
import io.mpathnbd.core.zone.ZoneLayout;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;

/**
 * Zone commands on a zoned export, for the admin API, the CLI and the front end's zone contexts: each through one
 * live path ({@link ControlSpread#throughOne}), the next on a path error, since zone state is the disk's and every
 * path sees it. Requests are checked against the layout first, so a wrong offset or count changes nothing. After a
 * management command the touched zones' cached write pointers are in doubt: the next write reads them again.
 */
public final class ZoneControl {
    private final String exportName;
    private final DiskProfile disk;
    private final ControlSpread control;
    private final Dispatcher dispatcher;
    private final LongAdder resets = new LongAdder();

    ZoneControl(String exportName, DiskProfile disk, ControlSpread control, Dispatcher dispatcher) {
        this.exportName = exportName;
        this.disk = disk;
        this.control = control;
        this.dispatcher = dispatcher;
    }

    /** Zones reset: by RESET of one or more zones (RESET ALL counted once per command), or by a TRIM. */
    public long resets() {
        ZonedWrites z = dispatcher.zonedWrites();
        return resets.sum() + (z == null ? 0 : z.trimResets());
    }

    /** Writes refused as unaligned before reaching a backend. */
    public long unalignedWriteRefusals() {
        ZonedWrites z = dispatcher.zonedWrites();
        return z == null ? 0 : z.unalignedRefusals();
    }

    /** REPORT ZONES: every zone overlapping {@code [offset, offset + length)}, as the disk holds them now. */
    public CompletableFuture<ControlResult<List<Zone>>> report(long offset, long length) {
        ZoneLayout l = disk.zones();
        String bad = l == null ? notZoned() : offset < 0 || length <= 0 || offset >= disk.size()
                ? "offset " + offset + " and length " + length + " are not on the disk of " + disk.size() + " bytes"
                : null;
        if (bad != null) {
            return CompletableFuture.completedFuture(ControlResult.failed(Failure.zone(ZoneError.INVALID_REQUEST,
                    bad)));
        }
        long len = Math.min(length, disk.size() - offset);
        return control.throughOne("REPORT ZONES", (p, s) -> s.zones().report(offset, len));
    }

    /**
     * {@code action} on {@code count} zones from the zone starting at {@code zoneStart}, one after the other,
     * stopping at the first failure. Checked first: a zoned export, a zone start, zones on the disk.
     */
    public CompletableFuture<ControlResult<Void>> manage(ZoneAction action, long zoneStart, int count) {
        ZoneLayout l = disk.zones();
        String bad = l == null ? notZoned() : validate(l, zoneStart, count);
        if (bad != null) {
            return CompletableFuture.completedFuture(ControlResult.failed(Failure.zone(ZoneError.INVALID_REQUEST,
                    bad)));
        }
        return manageFrom(action, l, l.zoneIndex(zoneStart), l.zoneIndex(zoneStart) + count);
    }

    private CompletableFuture<ControlResult<Void>> manageFrom(ZoneAction action, ZoneLayout l, int zone, int end) {
        if (zone >= end) {
            return CompletableFuture.completedFuture(ControlResult.ok());
        }
        long start = l.zoneStart(zone);
        // in the zone's plug, so it runs between the writes to that zone, in order
        ZonedWrites plugs = dispatcher.zonedWrites();
        CompletableFuture<ControlResult<Void>> one = plugs != null ? plugs.manage(zone, action)
                : control.<Void>throughOne(action + " ZONE", (p, s) -> s.zones().manage(action, start));
        return one.thenCompose(r -> {
                    doubt(zone);
                    if (!r.succeeded()) {
                        return CompletableFuture.completedFuture(r);
                    }
                    if (action == ZoneAction.RESET) {
                        resets.increment();
                    }
                    return manageFrom(action, l, zone + 1, end);
                });
    }

    /** {@code action} with ZBC's ALL bit. */
    public CompletableFuture<ControlResult<Void>> manageAll(ZoneAction action) {
        ZoneLayout l = disk.zones();
        if (l == null) {
            return CompletableFuture.completedFuture(ControlResult.failed(Failure.zone(ZoneError.INVALID_REQUEST,
                    notZoned())));
        }
        // in every zone's plug, so it runs between the writes, in order; the plugs doubt their pointers themselves
        ZonedWrites plugs = dispatcher.zonedWrites();
        CompletableFuture<ControlResult<Void>> all = plugs != null ? plugs.manageAll(action)
                : control.<Void>throughOne(action + " ALL ZONES", (p, s) -> s.zones().manageAll(action))
                        .thenApply(r -> {
                            for (int z = 0; z < l.zoneCount(); z++) {
                                doubt(z);
                            }
                            return r;
                        });
        return all.thenApply(r -> {
            if (r.succeeded() && action == ZoneAction.RESET) {
                resets.increment();
            }
            return r;
        });
    }

    private void doubt(int zone) {
        ZonedWrites z = dispatcher.zonedWrites();
        if (z != null) {
            z.doubt(zone);
        }
    }

    private String validate(ZoneLayout l, long zoneStart, int count) {
        if (zoneStart < 0 || zoneStart >= disk.size()) {
            return "offset " + zoneStart + " is not on the disk of " + disk.size() + " bytes";
        }
        if ((zoneStart & (l.zoneSize() - 1)) != 0) {
            return "offset " + zoneStart + " is not a zone start (zones are " + l.zoneSize() + " bytes)";
        }
        if (count < 1 || l.zoneIndex(zoneStart) + (long) count > l.zoneCount()) {
            return "count " + count + " from zone " + l.zoneIndex(zoneStart) + " is not within the "
                    + l.zoneCount() + " zones";
        }
        return null;
    }

    private String notZoned() {
        return "export " + exportName + " is not zoned";
    }

}
