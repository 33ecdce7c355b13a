package io.mpathnbd.core.export;

import io.mpathnbd.core.backend.ControlResult;
import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.core.time.Durations;
import io.mpathnbd.core.zone.Zone;
import io.mpathnbd.core.zone.ZoneAction;
import io.mpathnbd.core.zone.ZoneLayout;
import io.mpathnbd.core.zone.ZoneType;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * Writes to a zoned export (WRITE, WRITE_ZEROES): at most one in flight per sequential-write-required zone, across
 * every path and client, and none that does not start at the zone's write pointer.
 *
 * <p>Each zone has a {@link ZonePlug}. A write takes its zone's plug or queues behind the one holding it; the plug
 * passes on, in arrival order, when that write is answered. The holder is checked against the plug's cached write
 * pointer, read by REPORT ZONES through one live path when not known (first use, or after an answer that leaves it
 * in doubt), and refused as an unaligned write without reaching a backend if it is not there. A success advances
 * the pointer.
 *
 * <p>After a path error the write is fenced as any in-doubt write ({@link WriteFence}), then, instead of being sent
 * again blindly, its zone is read through a live path: a write pointer at or past the write's end means it landed
 * (success), at its start that nothing landed (send it again), in between that part landed (send the rest).
 *
 * <p>Conventional (and sequential-write-preferred) zones need no plug: once a report has said so, their writes go
 * straight to the dispatcher. Only zoned exports have this object.
 */
final class ZonedWrites {
    private final Dispatcher dispatcher;
    private final ControlSpread control;
    private final Timers timers;
    private final ZoneLayout layout;
    private final long retryDelayNanos;
    private final ZonePlug[] plugs;
    private final LongAdder unalignedRefusals = new LongAdder();
    private final LongAdder trimResets = new LongAdder();

    ZonedWrites(Dispatcher dispatcher, ControlSpread control, Timers timers, ZoneLayout layout,
            long retryDelayNanos) {
        this.dispatcher = dispatcher;
        this.control = control;
        this.timers = timers;
        this.layout = layout;
        this.retryDelayNanos = Math.max(1, retryDelayNanos);
        this.plugs = new ZonePlug[layout.zoneCount()];
        for (int i = 0; i < plugs.length; i++) {
            plugs[i] = new ZonePlug(i);
        }
    }

    ZoneLayout layout() {
        return layout;
    }

    /** Writes refused before reaching a backend because they were not at the write pointer. */
    long unalignedRefusals() {
        return unalignedRefusals.sum();
    }

    /** Takes a client's data-modifying request. */
    void submit(BlockRequest request) {
        int z = layout.zoneIndex(request.offset());
        if (z >= plugs.length) {
            dispatcher.dispatch(request, null); // out of range: the disk answers
            return;
        }
        ZonePlug plug = plugs[z];
        ZoneType t = plug.type;
        if (t != null && t != ZoneType.SEQUENTIAL_WRITE_REQUIRED) {
            dispatcher.dispatch(request, null);
            return;
        }
        if (plug.enter(request)) {
            start(plug, request);
        }
    }

    /**
     * A TRIM on an export with {@code trim-resets-zones}: exactly one whole sequential zone is reset, in its turn
     * behind the writes queued before it; any other TRIM is a hint the export takes and does nothing with (the
     * zoned paths have no TRIM of their own).
     */
    void trim(BlockRequest request) {
        long start = request.offset();
        int z = layout.zoneIndex(start);
        boolean wholeZone = z < plugs.length && start == layout.zoneStart(z)
                && Integer.toUnsignedLong(request.length()) == layout.zoneSize();
        ZonePlug plug = wholeZone ? plugs[z] : null;
        if (plug == null || plug.type != null && plug.type != ZoneType.SEQUENTIAL_WRITE_REQUIRED) {
            request.releasePayload();
            request.sink().succeeded(request, null, null);
            return;
        }
        if (plug.enter(request)) {
            start(plug, request);
        }
    }

    /** Zones reset by a TRIM. */
    long trimResets() {
        return trimResets.sum();
    }

    /** The TRIM holding {@code plug} resets its zone. */
    private void reset(ZonePlug plug, BlockRequest request) {
        long start = layout.zoneStart(plug.index);
        control.<Void>throughOne("RESET ZONE (TRIM)", (p, s) -> s.zones().manage(ZoneAction.RESET, start))
                .thenAccept(r -> {
                    plug.doubt();
                    if (r.succeeded()) {
                        trimResets.increment();
                        request.releasePayload();
                        request.sink().succeeded(request, null, null);
                    } else {
                        dispatcher.finish(request, r.failure().errno() == 0 ? Errno.EIO : r.failure().errno(),
                                "TRIM of zone " + plug.index + " (a zone reset): " + r.failure().message());
                    }
                    release(plug);
                });
    }

    /** {@code request} holds {@code plug}: check it against the write pointer and send it, or refuse it. */
    private void start(ZonePlug plug, BlockRequest request) {
        if (dispatcher.refuseIfClosed(request)) {
            release(plug);
            return;
        }
        if (!plug.known()) {
            readZone(plug, request.deadlineNanos(), zone -> {
                plug.learn(zone);
                start(plug, request);
            }, why -> {
                dispatcher.finish(request, Errno.EIO, why);
                release(plug);
            });
            return;
        }
        boolean trim = request.op() == BlockOp.TRIM;
        if (plug.type != ZoneType.SEQUENTIAL_WRITE_REQUIRED) {
            if (trim) {
                request.releasePayload(); // no zone to reset: a hint, taken
                request.sink().succeeded(request, null, null);
            } else {
                dispatcher.dispatch(request, null); // found to need no plug
            }
            release(plug);
            return;
        }
        if (trim) {
            reset(plug, request);
            return;
        }
        String why = plug.misaligned(request.offset());
        if (why != null) {
            unalignedRefusals.increment();
            dispatcher.finish(request, Errno.EIO, "export " + dispatcher.exportName() + ": unaligned write: " + why);
            release(plug);
            return;
        }
        ZoneWrite w = new ZoneWrite(this, plug, request);
        dispatcher.dispatch(w.attempt, null);
    }

    /** The plug's holder is answered: the next queued item takes it. */
    private void release(ZonePlug plug) {
        Object next = plug.next();
        if (next instanceof Command c) {
            run(plug, c);
        } else if (next instanceof AllCommand a) {
            arrived(a);
        } else if (next != null) {
            start(plug, (BlockRequest) next);
        }
    }

    /** A zone management command waiting in a zone's plug, so it runs between the writes, in arrival order. */
    record Command(ZoneAction action, CompletableFuture<ControlResult<Void>> result) {
    }

    /**
     * Zone management of zone {@code zone} in its turn: after the writes to it sent before, before those sent after.
     * The zone's cached pointer is in doubt afterwards.
     */
    CompletableFuture<ControlResult<Void>> manage(int zone, ZoneAction action) {
        ZonePlug plug = plugs[zone];
        Command c = new Command(action, new CompletableFuture<>());
        if (plug.enter(c)) {
            run(plug, c);
        }
        return c.result();
    }

    private void run(ZonePlug plug, Command c) {
        long start = layout.zoneStart(plug.index);
        control.<Void>throughOne(c.action() + " ZONE", (p, s) -> s.zones().manage(c.action(), start))
                .whenComplete((r, e) -> {
                    plug.doubt();
                    c.result().complete(orFailure(r, e, c.action() + " ZONE"));
                    release(plug);
                });
    }

    /** A command with the ALL bit: it runs once it holds every zone's plug, which it takes in each zone's turn. */
    record AllCommand(ZoneAction action, CompletableFuture<ControlResult<Void>> result, AtomicInteger waiting) {
    }

    /**
     * Zone management with the ALL bit, between the writes: after every write sent before it, to any zone, and
     * before every write sent after. It queues in all plugs at once under this object's lock, so two such commands
     * queue in the same order in every plug and cannot wait for each other. Every cached pointer is in doubt after.
     */
    CompletableFuture<ControlResult<Void>> manageAll(ZoneAction action) {
        AllCommand a = new AllCommand(action, new CompletableFuture<>(), new AtomicInteger(plugs.length));
        int taken = 0;
        synchronized (this) {
            for (ZonePlug plug : plugs) {
                if (plug.enter(a)) {
                    taken++;
                }
            }
        }
        for (int i = 0; i < taken; i++) {
            arrived(a);
        }
        return a.result();
    }

    /** {@code a} took one more plug; with the last it runs, then passes every plug on. */
    private void arrived(AllCommand a) {
        if (a.waiting().decrementAndGet() != 0) {
            return;
        }
        control.<Void>throughOne(a.action() + " ALL ZONES", (p, s) -> s.zones().manageAll(a.action()))
                .whenComplete((r, e) -> {
                    for (ZonePlug plug : plugs) {
                        plug.doubt();
                    }
                    a.result().complete(orFailure(r, e, a.action() + " ALL ZONES"));
                    for (ZonePlug plug : plugs) {
                        release(plug);
                    }
                });
    }

    /** The command's answer, or an EIO target failure when it completed exceptionally. */
    private static ControlResult<Void> orFailure(ControlResult<Void> r, Throwable e, String command) {
        return r != null ? r : ControlResult.failed(Failure.target(Errno.EIO, command + " failed: " + e));
    }

    /** A zone command changed zone {@code zone}: its next write reads the pointer again. */
    void doubt(int zone) {
        if (zone >= 0 && zone < plugs.length) {
            plugs[zone].doubt();
        }
    }

    // ------------------------------------------------------------ answers to an attempt

    void landed(ZoneWrite w, long end) {
        w.plug.advance(end);
        BlockRequest client = w.client;
        client.releasePayload();
        client.sink().succeeded(client, null, null);
        release(w.plug);
    }

    /** A target error, or the dispatcher gave up: the pointer may have moved, so the next write reads it. */
    void refused(ZoneWrite w, int errno, String message) {
        w.plug.doubt();
        dispatcher.finish(w.client, errno, message);
        release(w.plug);
    }

    /**
     * The attempt met a path error and its fence has passed: read the write pointer through a live path and send
     * only what did not land. Never a blind resend.
     */
    void inDoubt(ZoneWrite w, Path failedPath) {
        BlockRequest a = w.attempt;
        readZone(w.plug, a.deadlineNanos(), zone -> {
            w.plug.learn(zone);
            long wp = ZonePlug.writePointerOf(zone);
            long start = a.offset();
            long end = w.end();
            if (wp >= end) {
                a.releasePayload();
                landed(w, wp); // learn() already holds the reported pointer
            } else if (wp == start) {
                dispatcher.dispatch(a, failedPath);
            } else if (wp > start) {
                BlockRequest rest = w.attemptFor(wp, (int) (end - wp));
                for (int i = a.attempts(); i > 0; i--) {
                    rest.incrementAttempts();
                }
                a.releasePayload();
                w.attempt = rest;
                dispatcher.dispatch(rest, failedPath);
            } else {
                a.releasePayload();
                refused(w, Errno.EIO, "export " + dispatcher.exportName() + ": zone " + w.plug.index
                        + " write pointer went back to " + wp + " while a write at " + start + " was in doubt");
            }
        }, why -> {
            a.releasePayload();
            refused(w, Errno.EIO, why);
        });
    }

    // ------------------------------------------------------------ reading a zone

    /**
     * REPORT ZONES of one zone through one live path; with none live (or every one failing) tried again after the
     * retry delay until {@code deadlineNanos}, then {@code failed} with why.
     */
    private void readZone(ZonePlug plug, long deadlineNanos, Consumer<Zone> done, Consumer<String> failed) {
        long start = layout.zoneStart(plug.index);
        control.<List<Zone>>throughOne("REPORT ZONES", (p, s) -> s.zones().report(start, 1))
                .thenAccept(r -> answer(plug, deadlineNanos, r, done, failed));
    }

    private void answer(ZonePlug plug, long deadlineNanos, ControlResult<List<Zone>> r, Consumer<Zone> done,
            Consumer<String> failed) {
        if (r.succeeded() && !r.value().isEmpty()) {
            done.accept(r.value().get(0));
            return;
        }
        String why = "export " + dispatcher.exportName() + ": cannot read zone " + plug.index + "'s write pointer: "
                + (r.succeeded() ? "empty report" : r.failure().message());
        if (r.succeeded() || !r.isPathError() || dispatcher.closed() || System.nanoTime() - deadlineNanos >= 0) {
            failed.accept(why);
            return;
        }
        timers.schedule(() -> readZone(plug, deadlineNanos, done, failed), retryDelayNanos);
    }

    @Override
    public String toString() {
        return "zoned writes, " + plugs.length + " zones, retry " + Durations.format(retryDelayNanos);
    }
}
