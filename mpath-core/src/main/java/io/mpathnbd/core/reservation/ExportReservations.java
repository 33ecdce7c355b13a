package io.mpathnbd.core.reservation;

import io.mpathnbd.core.backend.BackendSession;
import io.mpathnbd.core.backend.ControlResult;
import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.backend.FailureKind;
import io.mpathnbd.core.backend.ReservationOps;
import io.mpathnbd.core.backend.ReservationType;
import io.mpathnbd.core.export.ControlSpread;
import io.mpathnbd.core.export.Export;
import io.mpathnbd.core.export.StorageFence;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.path.PathSession;
import io.mpathnbd.core.path.PathState;
import io.mpathnbd.core.request.Errno;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The persistent reservations of one export, with mpathpersist's semantics: REGISTER on every usable path (a
 * RESERVATION CONFLICT retried with REGISTER AND IGNORE EXISTING KEY), RESERVE, PREEMPT and CLEAR through one path
 * (the next on a path error), RELEASE on every path; reads through one path.
 *
 * <p>Our key (configured, or the last one registered through {@link #register}) is registered on every new session
 * before it carries I/O (start, reconnect, path add: tgt forgets a registration when a session ends), as the admission
 * step {@link #REGISTER_STEP}. A session that is up and cannot register is refused and says why. Once our key was
 * registered, a new session that finds it gone from the disk (another host preempted or cleared it) does not register
 * it back, nor does any later one: being fenced must stick until the operator registers again. The export also
 * counts as fenced while its writes meet RESERVATION CONFLICT (shown in status), which alone stops no registration.
 *
 * <p>Every path must have reservations (iSCSI); a command on an export with an NBD or file path fails naming it,
 * so a reservation never silently covers some paths only.
 */
public final class ExportReservations {
    private static final Logger LOG = LoggerFactory.getLogger(Export.class); // log lines read as the export's
    static final String REGISTER_STEP = "register reservation key";
    private static final int FIXUP_ROUNDS = 3;
    private static final long DRAIN_POLL_MILLIS = 5;

    private final Export export;
    private final ControlSpread control;
    private final AtomicBoolean stepInstalled = new AtomicBoolean();
    /** Each path's registration as status shows it: "registered", or why not. */
    private final Map<Path, String> registration = new ConcurrentHashMap<>();
    /** The session each path's registration was made on: a new session is a new, unregistered nexus. */
    private final Map<Path, BackendSession> registeredOn = new ConcurrentHashMap<>();
    private volatile long key;
    /** The flags of the last register, sent again by every new session's registration. */
    private volatile ReservationOps.RegisterFlags flags = ReservationOps.RegisterFlags.NONE;
    private volatile boolean keySecret;
    private volatile boolean everRegistered;
    private volatile String fenced;
    /** The reservation fence under way ({@link #fenceNexus}); new sessions register only after it. */
    private volatile CompletableFuture<Void> fencing = CompletableFuture.completedFuture(null);
    /** The target answered PREEMPT AND ABORT as unsupported (tgt): the fence sends plain PREEMPT from then on. */
    private volatile boolean abortUnsupported;

    /**
     * @param key the configured key, 0 for none: registered on every path before it carries I/O
     * @param secret the key came from a file: never logged, nor shown in status
     */
    public ExportReservations(Export export, long key, boolean secret) {
        this.export = export;
        this.control = export.control();
        this.key = key;
        this.keySecret = secret;
        if (key != 0) {
            installStep();
        }
    }

    // ------------------------------------------------------------------ state for status

    /** Our key, 0 if none. */
    public long key() {
        return key;
    }

    /** Whether the key came from a file (then it is not shown). */
    public boolean keySecret() {
        return keySecret;
    }

    /** {@code none} (no key), {@code registered}, or {@code fenced} (see {@link #fencedReason()}). */
    public String state() {
        if (key == 0) {
            return "none";
        }
        return fencedReason() != null ? "fenced" : "registered";
    }

    /** Why the export counts as fenced by another host, or null. */
    public String fencedReason() {
        if (key == 0) {
            return null;
        }
        String f = fenced;
        if (f != null) {
            return f;
        }
        String c = export.lastReservationConflict();
        return c == null ? null : "writes refused with RESERVATION CONFLICT: " + c;
    }

    /** The path's registration ("registered" or why not), or null when the export has no key. */
    public String registration(Path p) {
        return key == 0 ? null : registration.getOrDefault(p, "not registered yet");
    }

    /** The key for logs: hidden when it came from a file. */
    private String shown(long k) {
        return keySecret ? "(the key from the file)" : ReservationKeys.format(k);
    }

    // ------------------------------------------------------------------ paths without reservations

    /** Why this export cannot do persistent reservations (a path without them), or null. */
    public String unsupportedPath() {
        for (Path p : export.paths()) {
            if (!p.removing() && !p.offersReservations()) {
                return "export '" + export.name() + "': path " + p.id() + " (" + p.uri() + ") has no persistent"
                        + " reservations (NBD and file paths have none), and a reservation must cover every path";
            }
        }
        return null;
    }

    private <T> CompletableFuture<PrOutcome<T>> refuseUnsupported() {
        String why = unsupportedPath();
        return why == null ? null
                : CompletableFuture.completedFuture(PrOutcome.failed(Failure.target(Errno.ENOTSUP, why)));
    }

    private <T> CompletableFuture<PrOutcome<T>> requireKey(String what) {
        if (key != 0) {
            return null;
        }
        return CompletableFuture.completedFuture(PrOutcome.failed(Failure.target(Errno.EINVAL, what + ": export '"
                + export.name() + "' has no key registered (configure reservation-key or register one first)")));
    }

    // ------------------------------------------------------------------ reads

    public CompletableFuture<PrOutcome<ReservationOps.Keys>> readKeys() {
        return read("READ KEYS", ReservationOps::readKeys);
    }

    public CompletableFuture<PrOutcome<ReservationOps.Status>> readReservation() {
        return read("READ RESERVATION", ReservationOps::readReservation);
    }

    /** READ FULL STATUS (tgt has none: answered as unsupported by the target). */
    public CompletableFuture<PrOutcome<ReservationOps.FullStatus>> readFullStatus() {
        return read("READ FULL STATUS", ReservationOps::readFullStatus);
    }

    public CompletableFuture<PrOutcome<ReservationOps.Capabilities>> capabilities() {
        return read("REPORT CAPABILITIES", ReservationOps::reportCapabilities);
    }

    private <T> CompletableFuture<PrOutcome<T>> read(String what,
            Function<ReservationOps, CompletableFuture<ControlResult<T>>> op) {
        CompletableFuture<PrOutcome<T>> refused = refuseUnsupported();
        if (refused != null) {
            return refused;
        }
        return control.throughOne(what, (p, s) -> on(p, s, what, op)).thenApply(r -> r.succeeded()
                ? PrOutcome.ok(r.value(), null) : PrOutcome.failed(explain(what, r.failure())));
    }

    // ------------------------------------------------------------------ REGISTER, unregister

    /**
     * Registers {@code newKey} on every usable path (replacing our current key) and makes it the key new sessions
     * register. A path that is up and cannot register fails the command and is failed itself, so it reconnects and
     * stays out of I/O until its admission registers. Ends being fenced.
     */
    public CompletableFuture<PrOutcome<Void>> register(long newKey) {
        return register(newKey, ReservationOps.RegisterFlags.NONE);
    }

    /**
     * As {@link #register(long)}, with APTPL and ALL_TG_PT; a flag REPORT CAPABILITIES says the disk lacks (PTPL_C,
     * ATP_C) is refused as unsupported by the target before anything is sent, and new sessions send the same flags.
     */
    public CompletableFuture<PrOutcome<Void>> register(long newKey, ReservationOps.RegisterFlags with) {
        if (newKey == 0) {
            throw new IllegalArgumentException("key 0 unregisters: use unregister");
        }
        CompletableFuture<PrOutcome<Void>> refused = refuseUnsupported();
        if (refused != null) {
            return refused;
        }
        if (!with.any()) {
            return registerChecked(newKey, with);
        }
        return capabilities().thenCompose(c -> {
            if (c.succeeded()) {
                ReservationOps.Capabilities caps = c.value();
                if (with.aptpl() && !caps.persistThroughPowerLoss()) {
                    return CompletableFuture.completedFuture(PrOutcome.<Void>failed(lacking("APTPL", "PTPL_C")));
                }
                if (with.allTargetPorts() && !caps.allTargetPorts()) {
                    return CompletableFuture.completedFuture(PrOutcome.<Void>failed(lacking("ALL_TG_PT", "ATP_C")));
                }
            }
            return registerChecked(newKey, with); // no REPORT CAPABILITIES: the target's answer tells
        });
    }

    private static Failure lacking(String flag, String capability) {
        return Failure.target(Errno.ENOTSUP, "REGISTER with " + flag + " is unsupported by the target (REPORT"
                + " CAPABILITIES: " + capability + " 0)");
    }

    private CompletableFuture<PrOutcome<Void>> registerChecked(long newKey, ReservationOps.RegisterFlags with) {
        long old = key;
        ReservationOps.RegisterFlags oldFlags = flags;
        flags = with;
        key = newKey;
        keySecret = false;
        installStep();
        return registerEverywhere(old, newKey, "REGISTER", 0).thenApply(o -> {
            if (o.succeeded()) {
                everRegistered = true;
                fenced = null;
                export.rearmReservationConflicts();
                LOG.info("export {}: reservation key {} registered on every usable path", export.name(),
                        shown(newKey));
            } else if (o.failure().kind() == FailureKind.PATH && o.paths().isEmpty()) {
                key = old; // reached no path: nothing changed
                flags = oldFlags;
            }
            return o;
        });
    }

    /** Removes our key from every usable path; new sessions register nothing. */
    public CompletableFuture<PrOutcome<Void>> unregister() {
        CompletableFuture<PrOutcome<Void>> refused = refuseUnsupported();
        if (refused == null) {
            refused = requireKey("unregister");
        }
        if (refused != null) {
            return refused;
        }
        long old = key;
        key = 0;
        return registerEverywhere(old, 0, "unregister", 0).thenApply(o -> {
            if (o.succeeded()) {
                everRegistered = false;
                fenced = null;
                flags = ReservationOps.RegisterFlags.NONE;
                registration.clear();
                registeredOn.clear();
                LOG.info("export {}: reservation key {} unregistered", export.name(), shown(old));
            } else if (o.failure().kind() == FailureKind.PATH && o.paths().isEmpty()) {
                key = old;
            }
            return o;
        });
    }

    /**
     * REGISTER on every usable path; then again on any session that became usable meanwhile without it (its
     * admission may have started before the key changed), a few rounds at most.
     */
    private CompletableFuture<PrOutcome<Void>> registerEverywhere(long old, long newKey, String what, int round) {
        List<Path> current = export.paths();
        registration.keySet().retainAll(current); // forget removed paths
        registeredOn.keySet().retainAll(current);
        return control.toEveryLive(what, (p, s) -> registerOn(p, s, old, newKey)).thenCompose(answers -> {
            List<PrOutcome.PathAnswer> paths = new ArrayList<>();
            for (ControlSpread.Answer<Void> a : answers.answers()) {
                ControlResult<Void> r = a.result();
                paths.add(new PrOutcome.PathAnswer(a.path().id(), r.succeeded() ? "ok" : r.failure().message()));
                if (!r.succeeded() && !r.isPathError()) {
                    // up but cannot register: out of I/O until its admission registers (or says why not)
                    PathSession ps = a.path().session();
                    if (ps != null) {
                        a.path().fail(ps, what + " failed: " + r.failure().message());
                    }
                }
            }
            if (!answers.succeeded()) {
                return CompletableFuture.completedFuture(new PrOutcome<Void>(null,
                        explain(what, answers.failure()), paths, null));
            }
            if (round < FIXUP_ROUNDS && key == newKey && missed(newKey)) {
                return registerEverywhere(newKey, newKey, what, round + 1);
            }
            return CompletableFuture.completedFuture(new PrOutcome<Void>(null, null, paths, null));
        });
    }

    /** Whether a usable path's session has not got {@code k} registered by us. */
    private boolean missed(long k) {
        if (k == 0) {
            return false;
        }
        for (Path p : export.paths()) {
            PathSession ps = p.session();
            if (p.state() == PathState.LIVE && ps != null && !p.removing() && registeredOn.get(p) != ps.backend()) {
                return true;
            }
        }
        return false;
    }

    /** REGISTER on one session; a RESERVATION CONFLICT (a nexus holding another key) retried ignoring it. */
    private CompletableFuture<ControlResult<Void>> registerOn(Path p, BackendSession s, long old, long newKey) {
        ReservationOps ops = s.reservations();
        if (ops == null) {
            return CompletableFuture.completedFuture(ControlResult.failed(noReservations(p)));
        }
        ReservationOps.RegisterFlags f = newKey == 0 ? ReservationOps.RegisterFlags.NONE : flags;
        return ops.register(old, newKey, false, f).thenCompose(r -> r.failure() != null
                && r.failure().kind() == FailureKind.RESERVATION_CONFLICT
                ? ops.register(0, newKey, true, f) : CompletableFuture.completedFuture(r)).thenApply(r -> {
                    if (r.succeeded()) {
                        if (newKey == 0) {
                            registeredOn.remove(p);
                            registration.remove(p);
                        } else {
                            registeredOn.put(p, s);
                            registration.put(p, "registered");
                        }
                    } else if (!r.isPathError()) {
                        registration.put(p, "not registered: " + r.failure().message());
                    }
                    return r;
                });
    }

    // ------------------------------------------------------------------ admission of new sessions

    private void installStep() {
        if (stepInstalled.compareAndSet(false, true)) {
            control.onAdmit(REGISTER_STEP, this::admit);
        }
    }

    /**
     * Before a new session carries I/O: register our key on it. Like multipathd, it first reads the keys: once our
     * key was registered, finding it gone means another host preempted (or cleared) it, and the session goes live
     * unregistered (its writes are refused, EPERM to clients) rather than undoing the fence.
     */
    private CompletableFuture<ControlResult<Void>> admit(Path p, BackendSession s) {
        CompletableFuture<Void> f = fencing;
        if (!f.isDone()) {
            // a preempt of our own key under way would remove this session's registration again
            return f.handle((v, e) -> null).thenCompose(v -> admit(p, s));
        }
        long k = key;
        if (k == 0) {
            return CompletableFuture.completedFuture(ControlResult.ok());
        }
        ReservationOps ops = s.reservations();
        if (ops == null) {
            return CompletableFuture.completedFuture(ControlResult.failed(noReservations(p)));
        }
        // only our key gone from the disk stops registering: a conflict alone may be another host's reservation
        // that excludes every other host, registered or not, and our registration must be in place when it ends
        String why = fenced;
        if (why != null) {
            registration.put(p, "not registered: fenced (" + why + ")");
            return CompletableFuture.completedFuture(ControlResult.ok());
        }
        boolean wasRegistered = everRegistered; // read before the keys, so our own first registration is no fence
        return ops.readKeys().thenCompose(keys -> {
            if (!keys.succeeded()) {
                return CompletableFuture.completedFuture(ControlResult.<Void>failed(keys.failure()));
            }
            if (wasRegistered && key == k && !keys.value().keys().contains(k)) {
                fenced = "our key is gone from the disk (preempted or cleared by another host), found by path "
                        + p.id() + " as it connected";
                LOG.warn("export {}: {}; not registering it again: `pr register` rejoins", export.name(), fenced);
                registration.put(p, "not registered: fenced (" + fenced + ")");
                return CompletableFuture.completedFuture(ControlResult.<Void>ok());
            }
            return registerOn(p, s, 0, k).thenCompose(r -> {
                if (r.succeeded()) {
                    everRegistered = true;
                    if (key != k) {
                        return admit(p, s); // the key changed meanwhile: this session must have the new one
                    }
                }
                return CompletableFuture.completedFuture(r);
            });
        });
    }

    private static Failure noReservations(Path p) {
        return Failure.target(Errno.ENOTSUP, "path " + p.id() + " (" + p.uri() + ") has no persistent"
                + " reservations");
    }

    // ------------------------------------------------------------------ fence: reservation

    /**
     * Makes this export's in-doubt writes wait for {@link #fenceNexus} instead of the fence delay ({@code fence:
     * reservation}); its outcome falls back to the fence delay whenever the fence cannot be carried out.
     */
    public void fenceHungPaths() {
        export.storageFence(this::fenceNexus);
    }

    /**
     * Removes the hung path's nexus from the registrations through a healthy path, so that a write it still sends
     * meets RESERVATION CONFLICT: with I/O paused and what is in flight drained, PREEMPT AND ABORT of our own key
     * (plain PREEMPT where the target refuses the abort, as tgt does), which keeps the issuing nexus registered and
     * removes every other nexus with our key, the hung one included; the reservation re-taken if that lost it; our
     * key registered again on every usable path; I/O resumed. Only useful while a reservation of a registrants type
     * is held: otherwise the disk does not refuse an unregistered nexus, and the outcome says so.
     */
    CompletableFuture<StorageFence.Outcome> fenceNexus(Path hung) {
        long k = key;
        if (k == 0) {
            return notPossible("the export has no reservation key registered");
        }
        String f = fenced;
        if (f != null) {
            return notPossible("the export is fenced by another host: " + f);
        }
        if (unsupportedPath() != null) {
            return notPossible(unsupportedPath());
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        synchronized (this) {
            fencing = CompletableFuture.allOf(fencing, done); // two paths may fail at once
        }
        CompletableFuture<StorageFence.Outcome> result = readReservation().thenCompose(held -> {
            if (!held.succeeded()) {
                return notPossible("READ RESERVATION through a healthy path failed: " + held.failure().message());
            }
            ReservationOps.Holder h = held.value().holder();
            if (h == null || !h.type().forRegistrants()) {
                return notPossible(h == null ? "no reservation is held, so the disk refuses no nexus"
                        : "the reservation held (" + h.type().label() + ") is not of a registrants type, so the"
                                + " disk does not refuse an unregistered nexus");
            }
            return preemptPaused(hung, k, h);
        }).exceptionally(e -> new StorageFence.Outcome(false, "the fence failed: " + e));
        return result.whenComplete((o, e) -> done.complete(null));
    }

    private CompletableFuture<StorageFence.Outcome> preemptPaused(Path hung, long k, ReservationOps.Holder h) {
        export.pauseIo();
        CompletableFuture<StorageFence.Outcome> out;
        try {
            out = drained(drainBoundNanos()).thenCompose(drained -> {
                if (!drained) {
                    return notPossible("I/O on the healthy paths did not drain for the preempt of our own key");
                }
                String[] how = new String[1];
                return control.throughOne("PREEMPT", (p, s) -> on(p, s, "PREEMPT", o -> selfPreempt(o, k, h, how,
                        p))).thenCompose(r -> {
                            if (!r.succeeded()) {
                                return notPossible("preempting our own key through a healthy path failed: "
                                        + r.failure().message());
                            }
                            registeredOn.clear(); // the preempt left only the issuing nexus registered
                            return registerEverywhere(k, k, "REGISTER", 0).thenApply(reg -> StorageFence.Outcome
                                    .done(how[0] + " removed the registration of path " + hung.id() + "'s nexus"
                                            + (reg.succeeded() ? "; healthy paths registered again"
                                                    : "; registering the other paths again failed: "
                                                            + reg.failure().message())));
                        });
            });
        } catch (RuntimeException e) {
            export.resumeIo();
            throw e;
        }
        return out.whenComplete((o, e) -> export.resumeIo());
    }

    /** On one healthy session: PREEMPT (AND ABORT) of our own key, then the reservation re-taken if it was lost. */
    private CompletableFuture<ControlResult<Void>> selfPreempt(ReservationOps o, long k, ReservationOps.Holder h,
            String[] how, Path through) {
        boolean ours = h.key() == k;
        CompletableFuture<ControlResult<Void>> preempt;
        if (abortUnsupported) {
            how[0] = "PREEMPT of our own key through path " + through.id();
            preempt = o.preempt(k, k, h.type(), false);
        } else {
            how[0] = "PREEMPT AND ABORT of our own key through path " + through.id();
            preempt = o.preempt(k, k, h.type(), true).thenCompose(r -> {
                if (r.failure() != null && r.failure().kind() == FailureKind.TARGET
                        && r.failure().errno() == Errno.ENOTSUP) {
                    abortUnsupported = true;
                    how[0] = "PREEMPT of our own key through path " + through.id() + " (the target refuses"
                            + " PREEMPT AND ABORT)";
                    return o.preempt(k, k, h.type(), false);
                }
                return CompletableFuture.completedFuture(r);
            });
        }
        if (!ours) {
            return preempt;
        }
        return preempt.thenCompose(r -> !r.succeeded() ? CompletableFuture.completedFuture(r)
                : o.readReservation().thenCompose(after -> {
                    if (after.succeeded() && after.value().reserved() && after.value().holder().key() == k) {
                        return CompletableFuture.completedFuture(ControlResult.<Void>ok());
                    }
                    how[0] += ", reservation taken again";
                    return o.reserve(k, h.type());
                }));
    }

    private static CompletableFuture<StorageFence.Outcome> notPossible(String why) {
        return CompletableFuture.completedFuture(StorageFence.Outcome.notPossible(why));
    }

    // ------------------------------------------------------------------ RESERVE, RELEASE, CLEAR, PREEMPT

    /** RESERVE through one path; a conflict while our key already holds this reservation counts as success. */
    public CompletableFuture<PrOutcome<Void>> reserve(ReservationType type) {
        CompletableFuture<PrOutcome<Void>> refused = refuseUnsupported();
        if (refused == null) {
            refused = requireKey("reserve");
        }
        if (refused != null) {
            return refused;
        }
        long k = key;
        return supportedType("RESERVE", type).thenCompose(unsupported -> {
            if (unsupported != null) {
                return CompletableFuture.completedFuture(PrOutcome.<Void>failed(unsupported));
            }
            return control.throughOne("RESERVE", (p, s) -> on(p, s, "RESERVE", o -> o.reserve(k, type)))
                    .thenCompose(r -> {
                        if (r.succeeded()) {
                            LOG.info("export {}: reserved ({}) with key {}", export.name(), type.label(), shown(k));
                            return CompletableFuture.completedFuture(PrOutcome.<Void>ok(null, null));
                        }
                        if (r.failure().kind() != FailureKind.RESERVATION_CONFLICT) {
                            return CompletableFuture.completedFuture(PrOutcome.<Void>failed(
                                    explain("RESERVE", r.failure())));
                        }
                        return readReservation().thenApply(held -> held.succeeded() && held.value().reserved()
                                && held.value().holder().equals(new ReservationOps.Holder(k, type))
                                ? PrOutcome.<Void>ok(null, "already held by our key")
                                : PrOutcome.<Void>failed(explain("RESERVE", r.failure())));
                    });
        });
    }

    /** RELEASE on every usable path (the holding nexus is one of them); nothing to do if our key holds none. */
    public CompletableFuture<PrOutcome<Void>> release() {
        CompletableFuture<PrOutcome<Void>> refused = refuseUnsupported();
        if (refused == null) {
            refused = requireKey("release");
        }
        if (refused != null) {
            return refused;
        }
        long k = key;
        return readReservation().thenCompose(held -> {
            if (!held.succeeded()) {
                return CompletableFuture.completedFuture(PrOutcome.<Void>failed(held.failure()));
            }
            ReservationOps.Holder h = held.value().holder();
            if (h == null) {
                return CompletableFuture.completedFuture(PrOutcome.<Void>ok(null, "no reservation is held"));
            }
            if (h.key() != k) {
                return CompletableFuture.completedFuture(PrOutcome.<Void>ok(null,
                        "the reservation is held by another key: nothing of ours to release"));
            }
            return control.toEveryLive("RELEASE", (p, s) -> on(p, s, "RELEASE", o -> o.release(k, h.type())))
                    .thenCompose(answers -> {
                        List<PrOutcome.PathAnswer> paths = new ArrayList<>();
                        for (ControlSpread.Answer<Void> a : answers.answers()) {
                            paths.add(new PrOutcome.PathAnswer(a.path().id(),
                                    a.result().succeeded() ? "ok" : a.result().failure().message()));
                        }
                        if (!answers.succeeded()) {
                            return CompletableFuture.completedFuture(new PrOutcome<Void>(null,
                                    explain("RELEASE", answers.failure()), paths, null));
                        }
                        return readReservation().thenCompose(after -> stillHeld(after, k, paths, h.type()));
                    });
        });
    }

    /**
     * A RELEASE from a registered nexus that is not the holder is no error, and changes nothing: if our key still
     * holds the reservation, its holder is a nexus of ours that is gone (tgt keeps an ended session's registration).
     * Recovered as mpathpersist does: with I/O paused and drained, our own key is preempted through a live path
     * (which takes the reservation over and removes our other registrations), released there, and registered again
     * on every usable path before I/O resumes, so no write of ours meets the moment our other paths are unregistered.
     */
    private CompletableFuture<PrOutcome<Void>> stillHeld(PrOutcome<ReservationOps.Status> after, long k,
            List<PrOutcome.PathAnswer> paths, ReservationType type) {
        if (!(after.succeeded() && after.value().reserved() && after.value().holder().key() == k)) {
            LOG.info("export {}: released ({})", export.name(), type.label());
            return CompletableFuture.completedFuture(new PrOutcome<>(null, null, paths, null));
        }
        LOG.warn("export {}: the reservation is still held by our key through a nexus that is gone; preempting our"
                + " own key with I/O paused", export.name());
        export.pauseIo();
        CompletableFuture<PrOutcome<Void>> done;
        try {
            done = drained(drainBoundNanos()).thenCompose(drained -> {
                if (!drained) {
                    return CompletableFuture.completedFuture(PrOutcome.<Void>failed(Failure.timeout("RELEASE: the"
                            + " reservation is held by our key through a nexus that is gone, and I/O did not drain"
                            + " for the preempt of our own key that would take it over; nothing changed")));
                }
                return control.throughOne("PREEMPT and RELEASE", (p, s) -> on(p, s, "PREEMPT and RELEASE",
                        o -> o.preempt(k, k, type, false).thenCompose(r -> r.succeeded() ? o.release(k, type)
                                : CompletableFuture.completedFuture(r)))).thenCompose(r -> {
                                    registeredOn.clear(); // the preempt, if it ran, left only the issuing nexus
                                    return registerEverywhere(k, k, "REGISTER", 0).thenApply(reg -> {
                                        if (!r.succeeded()) {
                                            return new PrOutcome<Void>(null, explain("RELEASE", r.failure()),
                                                    reg.paths(), null);
                                        }
                                        if (!reg.succeeded()) {
                                            return reg;
                                        }
                                        LOG.info("export {}: released ({}) after taking it over from a nexus that"
                                                + " is gone", export.name(), type.label());
                                        return new PrOutcome<Void>(null, null, reg.paths(), "the reservation was"
                                                + " held through a nexus of ours that is gone: taken over by a"
                                                + " preempt of our own key with I/O paused, released, our paths"
                                                + " registered again");
                                    });
                                });
            });
        } catch (RuntimeException e) {
            export.resumeIo();
            throw e;
        }
        return done.whenComplete((o, e) -> export.resumeIo());
    }

    /** Twice the paths' request timeout and a second: what a sent request may take to be answered or failed. */
    private long drainBoundNanos() {
        long bound = java.util.concurrent.TimeUnit.SECONDS.toNanos(1);
        for (Path p : export.paths()) {
            bound = Math.max(bound, p.config().driverOptions().requestTimeout().multipliedBy(2).plusSeconds(1)
                    .toNanos());
        }
        return bound;
    }

    /** Completes true once no request of the export is in flight, false after {@code boundNanos}. */
    private CompletableFuture<Boolean> drained(long boundNanos) {
        long deadline = System.nanoTime() + boundNanos;
        CompletableFuture<Boolean> result = new CompletableFuture<>();
        pollDrained(deadline, result);
        return result;
    }

    private void pollDrained(long deadline, CompletableFuture<Boolean> result) {
        if (export.inFlight() == 0) {
            result.complete(true);
        } else if (System.nanoTime() - deadline >= 0) {
            result.complete(false);
        } else {
            CompletableFuture.runAsync(() -> pollDrained(deadline, result), CompletableFuture.delayedExecutor(
                    DRAIN_POLL_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS));
        }
    }

    /** CLEAR through one path: every registration (ours too) and the reservation go; new sessions register none. */
    public CompletableFuture<PrOutcome<Void>> clear() {
        CompletableFuture<PrOutcome<Void>> refused = refuseUnsupported();
        if (refused == null) {
            refused = requireKey("clear");
        }
        if (refused != null) {
            return refused;
        }
        long k = key;
        return control.throughOne("CLEAR", (p, s) -> on(p, s, "CLEAR", o -> o.clear(k))).thenApply(r -> {
            if (!r.succeeded()) {
                return PrOutcome.<Void>failed(explain("CLEAR", r.failure()));
            }
            if (key == k) {
                key = 0;
                flags = ReservationOps.RegisterFlags.NONE;
                everRegistered = false;
                fenced = null;
                registration.clear();
                registeredOn.clear();
            }
            LOG.info("export {}: cleared every registration and the reservation", export.name());
            return PrOutcome.<Void>ok(null, "every registration is gone, ours too: register to use a key again");
        });
    }

    /**
     * PREEMPT (AND ABORT) {@code victim} through one path, with {@code type} or, when null, the type of the
     * reservation held (it matters only when the victim holds it). Preempting our own key removes our other paths'
     * registrations too, so they are registered again.
     */
    public CompletableFuture<PrOutcome<Void>> preempt(long victim, ReservationType type, boolean abort) {
        CompletableFuture<PrOutcome<Void>> refused = refuseUnsupported();
        if (refused == null) {
            refused = requireKey("preempt");
        }
        if (refused != null) {
            return refused;
        }
        String what = abort ? "PREEMPT AND ABORT" : "PREEMPT";
        long k = key;
        CompletableFuture<ReservationType> typeOf = type != null ? CompletableFuture.completedFuture(type)
                : readReservation().thenApply(h -> h.succeeded() && h.value().reserved() ? h.value().holder().type()
                        : ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY);
        return typeOf.thenCompose(t -> supportedType(what, t).thenCompose(unsupported -> {
            if (unsupported != null) {
                return CompletableFuture.completedFuture(PrOutcome.<Void>failed(unsupported));
            }
            return control.throughOne(what, (p, s) -> on(p, s, what, o -> o.preempt(k, victim, t, abort)))
                    .thenCompose(r -> {
                        if (!r.succeeded()) {
                            return CompletableFuture.completedFuture(PrOutcome.<Void>failed(
                                    explain(what, r.failure())));
                        }
                        LOG.info("export {}: {} of key {} ({})", export.name(), what, victim == k ? "our own key"
                                : ReservationKeys.format(victim), t.label());
                        if (victim != k) {
                            return CompletableFuture.completedFuture(PrOutcome.<Void>ok(null, null));
                        }
                        registeredOn.clear();
                        return registerEverywhere(k, k, "REGISTER", 0).thenApply(o -> o.succeeded()
                                ? new PrOutcome<Void>(null, null, o.paths(),
                                        "our own key preempted; registered again on every usable path") : o);
                    });
        }));
    }

    /**
     * ENOTSUP when REPORT CAPABILITIES says the disk has no {@code type}; null when it has it or does not say (the
     * command itself then tells).
     */
    private CompletableFuture<Failure> supportedType(String what, ReservationType type) {
        return capabilities().thenApply(c -> c.succeeded() && !c.value().types().contains(type)
                ? Failure.target(Errno.ENOTSUP, what + " " + type.label() + " is unsupported by the target"
                        + " (REPORT CAPABILITIES lists " + c.value().types() + ")")
                : null);
    }

    // ------------------------------------------------------------------ one leg

    private static <T> CompletableFuture<ControlResult<T>> on(Path p, BackendSession s, String what,
            Function<ReservationOps, CompletableFuture<ControlResult<T>>> op) {
        ReservationOps ops = s.reservations();
        if (ops == null) {
            return CompletableFuture.completedFuture(ControlResult.failed(noReservations(p)));
        }
        return op.apply(ops);
    }

    /** The disk refusing a service action or an option (ILLEGAL REQUEST) is said as such. */
    private static Failure explain(String what, Failure f) {
        if (f.kind() == FailureKind.TARGET && f.errno() == Errno.ENOTSUP && !f.message().contains("unsupported")
                && !f.message().contains("persistent reservations")) {
            return new Failure(f.kind(), f.errno(), what + " is unsupported by the target: " + f.message());
        }
        return f;
    }
}
