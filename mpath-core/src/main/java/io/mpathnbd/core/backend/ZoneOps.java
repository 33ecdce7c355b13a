package io.mpathnbd.core.backend;

import io.mpathnbd.core.zone.Zone;
import io.mpathnbd.core.zone.ZoneAction;
import io.mpathnbd.core.zone.ZoneLayout;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Zone commands on one session of a zoned disk: the control template beside {@link BackendSession#submit}, as the
 * kernel's {@code report_zones} and zone management operations sit beside {@code submit_bio}, and as
 * {@link ReservationOps} does for reservations. A session offers them through {@link BackendSession#zones()}; a
 * transport without zones offers none.
 *
 * <p>Zone state belongs to the disk, not to the session: every path of a zoned export sees the same zones, and a
 * command through one path changes them for all. Which path a command travels (one, moving on when a path is lost)
 * is the export's choice.
 *
 * <p>Every future completes normally, from any thread, with a {@link ControlResult}: the value, or a failure
 * classified as for I/O. PATH or TIMEOUT: the path was lost or did not answer (another may succeed); TARGET: the
 * disk refuses, with {@link Failure#zoneError()} saying why when it is a zone error (a read-only or offline zone,
 * insufficient zone resources, an offset that is no zone start or names a conventional zone).
 *
 * <p>For iSCSI, {@link #report} is REPORT ZONES (ZBC IN 0x95 / 0x00, paged by allocation length until the range is
 * covered) and {@link #manage}/{@link #manageAll} one ZBC OUT (0x94) with the action's service action, the zone ID
 * and the ALL bit; sense classified by {@link io.mpathnbd.core.zone.ZoneError#ofSense}.
 */
public interface ZoneOps {

    /** The disk's zone layout as this session found it at connect. */
    ZoneLayout layout();

    /**
     * REPORT ZONES: every zone that overlaps {@code [offset, offset + length)}, in order, each as the disk holds it
     * when the command runs. An empty range or one beyond the disk is a TARGET failure (INVALID_REQUEST).
     */
    CompletableFuture<ControlResult<List<Zone>>> report(long offset, long length);

    /**
     * One zone management command on the zone that starts at {@code zoneStart}: OPEN (explicitly), CLOSE, FINISH
     * or RESET its write pointer, with ZBC's rules (an action that finds the zone already so is a success).
     */
    CompletableFuture<ControlResult<Void>> manage(ZoneAction action, long zoneStart);

    /**
     * The command with ZBC's ALL bit: OPEN every closed zone, CLOSE every open one, FINISH every open or closed one,
     * RESET every open, closed or full one; other zones are left as they are.
     */
    CompletableFuture<ControlResult<Void>> manageAll(ZoneAction action);
}
