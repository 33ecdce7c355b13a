package io.mpathnbd.file;

import io.mpathnbd.core.backend.BackendException;
import io.mpathnbd.core.zone.ZoneSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * The write pointers of an emulated zoned image, kept in a sidecar file beside it ({@code IMAGE.zones}), so the
 * image itself stays a plain image that any tool reads at the same offsets.
 *
 * <p>Layout, big-endian: the magic {@code MPNBDZN1}; block size, conventional zones (4 bytes each); zone size, zone
 * capacity, disk size (8 each); zone count (4), 4 reserved; then per zone its write pointer and data end relative
 * to the zone's start (8 each); last a CRC32C of everything before it.
 *
 * <p>Saved atomically: written to {@code IMAGE.zones.tmp}, forced, renamed over the old file, and the directory
 * forced, so a crash leaves the old state or the new one, never a mix; a stale {@code .tmp} is ignored and
 * overwritten. The caller saves pointers only after the data below them is forced to the image
 * ({@link ZonedImage}), so a saved pointer is never ahead of the data.
 */
final class ZoneStateFile {
    private static final byte[] MAGIC = "MPNBDZN1".getBytes(StandardCharsets.US_ASCII);
    private static final int HEADER = 48;

    private final Path path;
    private final Path temporary;
    private final ZoneSpec spec;
    private final long diskSize;
    private final int zoneCount;
    private final ByteBuffer buffer;

    ZoneStateFile(Path image, ZoneSpec spec, long diskSize, int zoneCount) {
        this.path = image.resolveSibling(image.getFileName() + ".zones");
        this.temporary = image.resolveSibling(image.getFileName() + ".zones.tmp");
        this.spec = spec;
        this.diskSize = diskSize;
        this.zoneCount = zoneCount;
        this.buffer = ByteBuffer.allocate(HEADER + 16 * zoneCount + 4);
    }

    Path path() {
        return path;
    }

    /**
     * Reads the saved pointers into the arrays; false if there is no state file (a new emulated disk: every zone
     * empty). A state file of another layout or a damaged one is a configuration error: its pointers cannot be
     * trusted, and silently emptying the zones would lose the data they cover.
     */
    boolean read(long[] writePointers, long[] dataEnds) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            return false;
        } catch (IOException e) {
            throw new BackendException("cannot read the zone state " + path + ": " + e, e);
        }
        ByteBuffer b = ByteBuffer.wrap(bytes);
        if (bytes.length < HEADER + 4 || !ByteBuffer.wrap(MAGIC).equals(b.slice(0, MAGIC.length))) {
            throw damaged("it is not a zone state file");
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, bytes.length - 4);
        if ((int) crc.getValue() != b.getInt(bytes.length - 4)) {
            throw damaged("its checksum does not match");
        }
        int blockSize = b.getInt(8);
        int conventional = b.getInt(12);
        long zoneSize = b.getLong(16);
        long capacity = b.getLong(24);
        long size = b.getLong(32);
        int zones = b.getInt(40);
        if (zoneSize != spec.zoneSize() || capacity != spec.zoneCapacity() || blockSize != spec.blockSize()
                || conventional != spec.conventional() || size != diskSize) {
            throw new BackendException("zone state " + path + " was written for zone-size=" + zoneSize
                    + " zone-capacity=" + capacity + " block-size=" + blockSize + " conventional=" + conventional
                    + " on " + size + " bytes, not zone-size=" + spec.zoneSize() + " zone-capacity="
                    + spec.zoneCapacity() + " block-size=" + spec.blockSize() + " conventional="
                    + spec.conventional() + " on " + diskSize + ": use those parameters, or delete it to start"
                    + " with every zone empty", true, null);
        }
        if (zones != zoneCount || bytes.length != HEADER + 16 * zones + 4) {
            throw damaged("its length does not match its zone count");
        }
        for (int z = 0; z < zoneCount; z++) {
            writePointers[z] = b.getLong(HEADER + 16 * z);
            dataEnds[z] = b.getLong(HEADER + 16 * z + 8);
        }
        return true;
    }

    private BackendException damaged(String why) {
        return new BackendException("zone state " + path + " cannot be used: " + why + " (delete it to start with"
                + " every zone empty)", true, null);
    }

    /** Replaces the saved state with these pointers, atomically and durably. Not thread-safe: one saver at a time. */
    void write(long[] writePointers, long[] dataEnds) throws IOException {
        ByteBuffer b = buffer;
        b.clear();
        b.put(MAGIC).putInt(spec.blockSize()).putInt(spec.conventional()).putLong(spec.zoneSize())
                .putLong(spec.zoneCapacity()).putLong(diskSize).putInt(zoneCount).putInt(0);
        for (int z = 0; z < zoneCount; z++) {
            b.putLong(writePointers[z]).putLong(dataEnds[z]);
        }
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, b.position());
        b.putInt((int) crc.getValue());
        b.flip();
        try (FileChannel out = FileChannel.open(temporary, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            while (b.hasRemaining()) {
                out.write(b);
            }
            out.force(true);
        }
        try {
            Files.move(temporary, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot replace " + path + " atomically: " + e.getMessage(), e);
        }
        try (FileChannel dir = FileChannel.open(path.toAbsolutePath().getParent(), StandardOpenOption.READ)) {
            dir.force(true); // the rename itself survives a crash
        }
    }
}
