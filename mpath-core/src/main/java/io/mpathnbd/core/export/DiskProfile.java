package io.mpathnbd.core.export;

import io.mpathnbd.core.backend.BackendInfo;
import io.mpathnbd.core.backend.Capability;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.path.PathState;
import io.mpathnbd.core.zone.ZoneLayout;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The disk as the export advertises it to clients: size, identity, capabilities and block sizes.
 *
 * <p>Every new session of a path is admitted here first: it must reach the same disk (size, identity) and, once the
 * export has advertised, be able to do all of what was advertised. The advertisement is pinned once the paths that
 * can connect have been admitted: when every path has tried once, or, after the first one, at the latest when the
 * others' connect timeouts have run out (a slow but healthy path is not shut out by a weaker advertisement). Decided
 * under this object's lock, read without it.
 */
final class DiskProfile {
    private static final Logger LOG = LoggerFactory.getLogger(Export.class); // log lines read as the export's
    /** Lower bound of the wait for the other configured paths after the first is admitted. */
    static final long READY_GRACE_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** Capabilities that describe a restriction or a property rather than an ability: united, not intersected. */
    private static final int UNITED_CAPABILITIES = Capability.READ_ONLY | Capability.ROTATIONAL;

    private final ExportConfig config;
    private final PathSet paths;
    private final Timers timers;
    private final CompletableFuture<Void> readyFuture = new CompletableFuture<>();

    private volatile boolean ready;
    private volatile long size;
    private volatile int capabilities;
    private volatile int minBlockSize = 1;
    private volatile int preferredBlockSize = 4096;
    private volatile int maxPayload;
    private volatile String identity;
    /** The disk's zone layout, null while unknown or when the disk is not zoned; fixed by the first admitted path. */
    private volatile ZoneLayout zones;

    // guarded by this
    private final Map<Path, BackendInfo> admitted = new IdentityHashMap<>();
    private long firstSize = -1;
    private boolean identityFixed;
    private boolean zonedFixed;
    private boolean graceScheduled;
    private boolean announced;
    private final Set<Runnable> waiters = new LinkedHashSet<>();

    DiskProfile(ExportConfig config, PathSet paths, Timers timers) {
        this.config = config;
        this.paths = paths;
        this.timers = timers;
        this.identity = config.expectedIdentity();
    }

    boolean ready() {
        return ready;
    }

    long size() {
        return size;
    }

    int capabilities() {
        return capabilities;
    }

    int minBlockSize() {
        return minBlockSize;
    }

    int preferredBlockSize() {
        return preferredBlockSize;
    }

    int maxPayload() {
        return maxPayload;
    }

    String identity() {
        return identity;
    }

    /** The zone layout every path shares, or null when the disk is not zoned (or no path was admitted yet). */
    ZoneLayout zones() {
        return zones;
    }

    /** Completes when the profile is pinned, exceptionally if the export closes first. */
    CompletableFuture<Void> whenReady() {
        return readyFuture.copy();
    }

    /**
     * Runs {@code action} once the profile is announced: at once on this thread if it already is, else on the thread
     * that announces it. Cheaper than {@link #whenReady()} for many short waits, since a wait given up (its client
     * went away) is dropped with the returned handle instead of staying attached until the export is ready.
     *
     * @return runs to give up the wait; does nothing once the action has run
     */
    Runnable onReady(Runnable action) {
        synchronized (this) {
            if (!announced) {
                waiters.add(action);
                return () -> {
                    synchronized (this) {
                        waiters.remove(action);
                    }
                };
            }
        }
        action.run();
        return () -> { };
    }

    void abandon() {
        synchronized (this) {
            waiters.clear();
        }
        readyFuture.completeExceptionally(
                new IllegalStateException("export " + config.name() + " closed before it was ready"));
    }

    // ------------------------------------------------------------ admission

    /**
     * Null to accept a path's new session, else why it is refused. {@code layout} is the session's zone layout, null
     * when its disk is not zoned: the first admitted path decides whether the export is zoned, and every later
     * session (every reconnect too) must agree, layout and all, as with the identity.
     */
    synchronized String admit(Path path, BackendInfo info, ZoneLayout layout) {
        long expectedSize = ready ? size : firstSize;
        if (expectedSize >= 0 && info.size() != expectedSize) {
            return "size mismatch: path reports " + info.size() + " bytes, the export's size is " + expectedSize
                    + " bytes (a different disk?)";
        }
        String expectedId = config.expectedIdentity() != null ? config.expectedIdentity() : identity;
        // a transport without identities (NBD) is admitted when the operator configured the identity: that is how
        // NBD and iSCSI paths to one disk share an export
        boolean vouched = config.expectedIdentity() != null && info.identity() == null;
        if (expectedId != null && !vouched && !expectedId.equals(info.identity())) {
            return "identity mismatch: path reports "
                    + (info.identity() == null ? "no identity" : "'" + info.identity() + "'")
                    + ", expected '" + expectedId + "'"
                    + (config.expectedIdentity() != null ? " (configured)" : " (first path's)");
        }
        String zoneMismatch = zoneMismatch(path, layout);
        if (zoneMismatch != null) {
            return zoneMismatch;
        }
        if (ready) {
            String lacking = lacking(info);
            if (lacking != null) {
                return lacking;
            }
        }
        if (firstSize < 0) {
            firstSize = info.size();
        }
        if (!identityFixed) {
            identityFixed = true;
            if (config.expectedIdentity() == null) {
                identity = info.identity();
            }
        }
        if (!zonedFixed) {
            zonedFixed = true;
            zones = layout;
        }
        admitted.put(path, info);
        return null;
    }

    /** Why a session's zones do not fit the export's, or null. Lock held. */
    private String zoneMismatch(Path path, ZoneLayout layout) {
        if (!zonedFixed) {
            return null;
        }
        ZoneLayout expected = zones;
        if (expected == null && layout != null) {
            return "path " + path.id() + " reaches a zoned disk (" + describe(layout) + ") but the export's disk is "
                    + "not zoned: an export cannot mix zoned and non-zoned paths";
        }
        if (expected != null && layout == null) {
            return "path " + path.id() + " reaches a disk that is not zoned but the export's disk is zoned ("
                    + describe(expected) + "): an export cannot mix zoned and non-zoned paths";
        }
        if (expected != null && !expected.equals(layout)) {
            return "zone layout mismatch: path " + path.id() + " reports " + describe(layout) + ", the export's is "
                    + describe(expected) + " (a different disk?)";
        }
        return null;
    }

    static String describe(ZoneLayout l) {
        return l.model() + ", " + l.zoneCount() + " zones of " + l.zoneSize() + " bytes, max open "
                + (l.maxOpen() == 0 ? "unlimited" : Integer.toString(l.maxOpen()));
    }

    /** What a late path lacks of what the export already advertises, or null. */
    private String lacking(BackendInfo info) {
        int pinned = capabilities & ~(UNITED_CAPABILITIES | Capability.MULTI_CONN);
        if (zones != null && config.trimResetsZones()) {
            pinned &= ~Capability.TRIM; // answered by the export, not the paths
        }
        int missing = pinned & ~info.capabilities();
        if (missing != 0) {
            return "lacks capabilities the export already advertises: " + Capability.describe(missing)
                    + " (path has: " + Capability.describe(info.capabilities()) + ")";
        }
        if (!Capability.has(capabilities, Capability.READ_ONLY) && info.has(Capability.READ_ONLY)) {
            return "read-only, but the export is advertised writable";
        }
        if (info.minBlockSize() > minBlockSize) {
            return "minimum block size " + info.minBlockSize() + " is larger than the advertised " + minBlockSize;
        }
        if (info.maxPayload() < maxPayload) {
            return "maximum payload " + info.maxPayload() + " is smaller than the advertised " + maxPayload;
        }
        return null;
    }

    /** A removed path no longer counts. */
    synchronized void forget(Path path) {
        admitted.remove(path);
    }

    // ------------------------------------------------------------ pinning

    /**
     * Pins the profile if every path has tried once; else starts the grace timer (once). Call after every path event,
     * and {@link #announce()} if this returns true.
     *
     * @return true if the profile was pinned now
     */
    synchronized boolean settle() {
        if (ready || !paths.started() || admitted.isEmpty() || paths.closed()) {
            return false;
        }
        for (Path m : paths.snapshot()) {
            PathState s = m.state();
            if (!m.attempted() && s != PathState.DISABLED && s != PathState.REMOVED && !m.removing()) {
                if (!graceScheduled) {
                    graceScheduled = true;
                    timers.schedule(this::graceEnded, graceNanos());
                }
                return false;
            }
        }
        pin();
        return true;
    }

    /** Long enough for every configured path to finish its first attempt: the longest connect timeout. */
    private long graceNanos() {
        long grace = READY_GRACE_NANOS;
        for (Path m : paths.snapshot()) {
            grace = Math.max(grace, m.config().driverOptions().connectTimeout().toNanos());
        }
        return grace;
    }

    private void graceEnded() {
        synchronized (this) {
            if (ready || paths.closed() || admitted.isEmpty()) {
                return;
            }
            pin();
        }
        announce();
    }

    /**
     * The intersection of what the admitted paths can do (restrictions such as read-only united), the strictest block
     * sizes. Lock held.
     *
     * <p>MULTI_CONN is advertised exactly when FLUSH is. A client may write through one connection and flush through
     * another; all its connections reach this one export, whose FLUSH goes to every path that completed writes since
     * its last flush (see {@link FlushFanout}), and a backend session's FLUSH covers every write made through that
     * session. So a FLUSH covers all writes completed before it, whatever the connection, which is what MULTI_CONN
     * promises.
     */
    private void pin() {
        int and = ~0;
        int or = 0;
        int min = 1;
        int preferred = 1;
        int max = Integer.MAX_VALUE;
        for (BackendInfo i : admitted.values()) {
            and &= i.capabilities();
            or |= i.capabilities();
            min = Math.max(min, Math.max(1, i.minBlockSize()));
            preferred = Math.max(preferred, i.preferredBlockSize());
            max = Math.min(max, i.maxPayload() > 0 ? i.maxPayload() : Integer.MAX_VALUE);
        }
        int caps = (and & ~(UNITED_CAPABILITIES | Capability.MULTI_CONN)) | (or & UNITED_CAPABILITIES);
        if (Capability.has(caps, Capability.FLUSH)) {
            caps |= Capability.MULTI_CONN;
        }
        if (zones != null && config.trimResetsZones()) {
            caps |= Capability.TRIM; // the export answers TRIM itself: a zone reset, or a hint it may ignore
        }
        max = Math.max(max, min);
        preferred = Math.min(Math.max(preferred, min), max);
        size = firstSize;
        capabilities = caps;
        minBlockSize = min;
        preferredBlockSize = preferred;
        maxPayload = max;
        ready = true;
    }

    /** Logs the pinned profile and completes {@link #whenReady()}. */
    void announce() {
        LOG.info("export {}: ready: {} bytes, {}, block sizes {}/{}/{}, {} of {} paths live{}", config.name(), size,
                Capability.describe(capabilities), minBlockSize, preferredBlockSize, maxPayload, paths.liveCount(),
                paths.snapshot().length, identity != null ? ", identity " + identity : "");
        List<Runnable> toRun;
        synchronized (this) {
            announced = true;
            toRun = new ArrayList<>(waiters);
            waiters.clear();
        }
        readyFuture.complete(null);
        for (Runnable r : toRun) {
            try {
                r.run();
            } catch (RuntimeException e) {
                LOG.warn("export {}: a client waiting for the export failed: {}", config.name(), e.toString());
            }
        }
    }
}
