package io.mpathnbd.file;

import io.mpathnbd.core.backend.BackendException;
import io.mpathnbd.core.zone.HostManagedZones;
import io.mpathnbd.core.zone.ZoneSpec;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.Map;

/**
 * One emulated zoned disk: an image file, its zone state machine and its saved write pointers. A disk has one
 * zone state however many paths reach it, so every session on the same image in this process shares one instance
 * (counted; the last release saves and forgets it), found by its real path, so a symbolic link reaches the same
 * state; a hard link (the same inode under another real path) is refused while the other name is in use. Two
 * processes must not emulate zones on one image: each would keep its own pointers.
 *
 * <p>Durability is a disk's with a volatile write cache: a write moves the pointer at once, a FLUSH (or a FUA
 * write) makes the data and the pointers durable, and zone management is durable before it is answered (a reset
 * forgotten in a crash would bring back data the client dropped). Saving takes the pointers first, then forces the
 * image, then writes the state file, so a saved pointer never covers data that was not yet forced. After a crash
 * the pointers are those of the last save: writes since then read as zeros, as they would on a disk that lost its
 * cache.
 */
final class ZonedImage {
    private static final Map<Path, ZonedImage> OPEN = new HashMap<>(); // guarded by OPEN
    /** The open images by inode: a hard link is the same disk under another real path. Guarded by OPEN. */
    private static final Map<Object, Path> INODES = new HashMap<>();

    private final Path key;
    private Object inode; // guarded by OPEN
    private final HostManagedZones zones;
    private final ZoneStateFile state;
    private final long[] writePointers;
    private final long[] dataEnds;
    private int users; // guarded by OPEN
    private long saved; // guarded by this

    private ZonedImage(Path key, HostManagedZones zones, ZoneStateFile state, long saved) {
        this.key = key;
        this.zones = zones;
        this.state = state;
        this.writePointers = new long[zones.zoneCount()];
        this.dataEnds = new long[zones.zoneCount()];
        this.saved = saved;
    }

    /**
     * The shared instance for {@code image} (its real path), loading the saved pointers or, for a new emulated disk
     * on a writable image, saving empty ones at once, so an unwritable directory shows at open and not at the first
     * FLUSH. A second use with other parameters is a configuration error.
     */
    static ZonedImage acquire(Path image, ZoneSpec spec, long diskSize, boolean readOnly) throws IOException {
        Path key = image.toRealPath();
        Object inode = Files.readAttributes(key, BasicFileAttributes.class).fileKey();
        synchronized (OPEN) {
            Path sameFile = inode == null ? null : INODES.get(inode);
            if (sameFile != null && !sameFile.equals(key)) {
                throw new BackendException(image + " is the same file as " + sameFile + " (a hard link), which is"
                        + " already emulated as a zoned disk: its write pointers are kept beside " + sameFile
                        + ", so use that name (or a symbolic link to it)", true, null);
            }
            ZonedImage open = OPEN.get(key);
            if (open != null) {
                if (!open.zones.spec().equals(spec) || open.zones.diskSize() != diskSize) {
                    throw new BackendException(image + " is already emulated as a zoned disk with "
                            + describe(open.zones.spec()) + "; this path asks for " + describe(spec), true, null);
                }
                open.users++;
                return open;
            }
            HostManagedZones fresh = zonesOf(image, spec, diskSize, null, null);
            ZoneStateFile state = new ZoneStateFile(key, spec, diskSize, fresh.zoneCount());
            long[] wps = new long[fresh.zoneCount()];
            long[] data = new long[fresh.zoneCount()];
            HostManagedZones zones = state.read(wps, data) ? zonesOf(state.path(), spec, diskSize, wps, data) : null;
            ZonedImage created;
            if (zones == null) {
                // read-only: nothing to save until a writable path moves a pointer
                created = new ZonedImage(key, fresh, state, readOnly ? 0 : -1);
                if (!readOnly) {
                    try {
                        created.saveIfChanged(null);
                    } catch (IOException e) {
                        throw new BackendException("cannot create the zone state " + state.path() + ": " + e, true, e);
                    }
                }
            } else {
                created = new ZonedImage(key, zones, state, zones.changes());
            }
            created.users = 1;
            created.inode = inode;
            OPEN.put(key, created);
            if (inode != null) {
                INODES.put(inode, key);
            }
            return created;
        }
    }

    private static HostManagedZones zonesOf(Path where, ZoneSpec spec, long diskSize, long[] wps, long[] data) {
        try {
            return new HostManagedZones(spec, diskSize, wps, data);
        } catch (IllegalArgumentException e) {
            throw new BackendException(where + ": " + e.getMessage(), true, e);
        }
    }

    private static String describe(ZoneSpec s) {
        return "zone-size=" + s.zoneSize() + " zone-capacity=" + s.zoneCapacity() + " conventional="
                + s.conventional() + " max-open=" + s.maxOpen() + " block-size=" + s.blockSize()
                + " read-only-zones=" + s.readOnlyZones() + " offline-zones=" + s.offlineZones();
    }

    HostManagedZones zones() {
        return zones;
    }

    Path statePath() {
        return state.path();
    }

    /** FLUSH: the image's data and every write pointer durable. */
    void flush(FileChannel image) throws IOException {
        synchronized (this) {
            long changes = zones.snapshot(writePointers, dataEnds);
            image.force(false); // first the data the snapshot's pointers cover
            if (changes != saved) {
                state.write(writePointers, dataEnds);
                saved = changes;
            }
        }
    }

    /**
     * Makes the pointers durable if they moved since the last save (after zone management, at the last close).
     * {@code image} forces the data first; if it is null or closed (a session lost to an interrupt) a channel of its
     * own does, so the pointers of a lost session are still saved.
     */
    void saveIfChanged(FileChannel image) throws IOException {
        synchronized (this) {
            long changes = zones.snapshot(writePointers, dataEnds);
            if (changes == saved) {
                return;
            }
            if (image != null && image.isOpen()) {
                image.force(false);
            } else {
                try (FileChannel own = FileChannel.open(key, StandardOpenOption.READ)) {
                    own.force(false); // fsync covers every descriptor's writes to the file
                }
            }
            state.write(writePointers, dataEnds);
            saved = changes;
        }
    }

    /** A session is done with the image: the last one saves the pointers and drops the shared instance. */
    void release(FileChannel image) throws IOException {
        synchronized (OPEN) { // saved before another acquire can read the state file
            if (--users > 0) {
                return;
            }
            OPEN.remove(key);
            if (inode != null) {
                INODES.remove(inode);
            }
            saveIfChanged(image);
        }
    }
}
