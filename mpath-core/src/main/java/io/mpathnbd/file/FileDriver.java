package io.mpathnbd.file;

import io.mpathnbd.core.backend.BackendDriver;
import io.mpathnbd.core.backend.BackendException;
import io.mpathnbd.core.backend.BackendInfo;
import io.mpathnbd.core.backend.BackendSession;
import io.mpathnbd.core.backend.Capability;
import io.mpathnbd.core.backend.DriverOptions;
import io.mpathnbd.core.zone.ZoneLayout;
import io.mpathnbd.core.zone.ZoneSpec;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A local file or block device as a path. Java's file I/O blocks, so it runs on this driver's own small thread pool,
 * never on event loops; one pool per path keeps a stuck disk behind one path from stalling another path's I/O.
 *
 * <p>Advertised: FLUSH, FUA, WRITE_ZEROES, MULTI_CONN (one channel per session, and fdatasync covers every write to
 * the file), READ_ONLY when the file is not writable or the URI says {@code readonly=true}. Not advertised: TRIM and
 * BLOCK_STATUS, because Java can neither punch nor seek holes portably; CACHE and FAST_ZERO, because there is no
 * posix_fadvise and zeroing is a plain write.
 *
 * <p>With a zone specification (URI {@code zone-size=...}) the file is an emulated host-managed zoned disk, as the
 * kernel's null_blk zoned mode: sessions share the image's {@link ZonedImage} state and offer
 * {@link BackendSession#zones()}.
 */
public final class FileDriver implements BackendDriver {
    private static final Logger LOG = LoggerFactory.getLogger(FileDriver.class);
    private static final int DEFAULT_PREFERRED_BLOCK = 4096;

    private final String displayUri;
    private final Path file;
    private final boolean forceReadOnly;
    /** Zone emulation, or null for a plain file. */
    private final ZoneSpec zoneSpec;
    private final DriverOptions options;
    private final ThreadPoolExecutor io;

    FileDriver(String displayUri, Path file, boolean forceReadOnly, ZoneSpec zoneSpec, DriverOptions options) {
        this.displayUri = displayUri;
        this.file = file;
        this.forceReadOnly = forceReadOnly;
        this.zoneSpec = zoneSpec;
        this.options = options;
        // blocking I/O: parallelism is what lets the disk see a queue; idle threads time out
        int threads = options.connections() > 0 ? options.connections()
                : Math.min(16, Math.max(4, 2 * Runtime.getRuntime().availableProcessors()));
        this.io = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                threadFactory(file));
        this.io.allowCoreThreadTimeOut(true);
    }

    private static ThreadFactory threadFactory(Path file) {
        AtomicInteger n = new AtomicInteger();
        String name = "file-io-" + file.getFileName() + "-";
        return r -> {
            Thread t = new Thread(r, name + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    @Override
    public Boolean zoned() {
        return zoneSpec != null;
    }

    @Override
    public String displayUri() {
        return displayUri;
    }

    public Path file() {
        return file;
    }

    @Override
    public CompletableFuture<BackendSession> connect() {
        try {
            return CompletableFuture.supplyAsync(this::open, io);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.failedFuture(new BackendException("file driver for " + file + " is shut down"));
        }
    }

    private BackendSession open() {
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            throw new BackendException("no such file: " + file, true, e);
        } catch (IOException e) {
            throw new BackendException("cannot read attributes of " + file + ": " + e, e);
        }
        if (attrs.isDirectory()) {
            throw new BackendException(file + " is a directory", true, null);
        }
        boolean readOnly = forceReadOnly || !Files.isWritable(file);
        FileChannel channel;
        try {
            channel = readOnly ? FileChannel.open(file, StandardOpenOption.READ)
                    : FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (AccessDeniedException e) {
            throw new BackendException("permission denied: " + file, true, e);
        } catch (IOException e) {
            throw new BackendException("cannot open " + file + ": " + e, e);
        }
        try {
            long size = channel.size();
            if (size == 0 && attrs.isOther()) {
                size = BlockDevices.size(file);
            }
            if (zoneSpec != null) {
                return openZoned(channel, attrs, size, readOnly);
            }
            int caps = Capability.FLUSH | Capability.FUA | Capability.WRITE_ZEROES | Capability.MULTI_CONN;
            if (readOnly) {
                caps |= Capability.READ_ONLY;
            }
            Object key = attrs.fileKey();
            String identity = "file:" + (key != null ? key.toString() : file.toRealPath().toString());
            int maxPayload = options.maxPayload() > 0 ? options.maxPayload() : DriverOptions.DEFAULT_MAX_PAYLOAD;
            BackendInfo info = new BackendInfo(size, caps, 1, preferredBlockSize(), maxPayload, identity,
                    "file " + file);
            LOG.debug("opened {} ({} bytes, {}{})", file, size, Capability.describe(caps),
                    readOnly ? ", read-only" : "");
            return new FileSession(file, channel, info, io, ByteBufAllocator.DEFAULT, null);
        } catch (IOException | RuntimeException e) {
            try {
                channel.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            if (e instanceof BackendException) {
                throw (BackendException) e;
            }
            throw new BackendException("cannot open " + file + ": " + e, e);
        }
    }

    /**
     * A session on the emulated zoned disk: the image's shared zone state, and the zone's block size as the
     * smallest request granularity. Closing the channel on failure is the caller's.
     */
    private BackendSession openZoned(FileChannel channel, BasicFileAttributes attrs, long size, boolean readOnly)
            throws IOException {
        if (!attrs.isRegularFile()) {
            throw new BackendException("zone emulation needs a regular file (its write pointers are kept beside it):"
                    + " " + file + " is not one", true, null);
        }
        ZonedImage image = ZonedImage.acquire(file, zoneSpec, size, readOnly);
        try {
            int caps = Capability.FLUSH | Capability.FUA | Capability.WRITE_ZEROES | Capability.MULTI_CONN;
            if (readOnly) {
                caps |= Capability.READ_ONLY;
            }
            Object key = attrs.fileKey();
            String identity = "file:" + (key != null ? key.toString() : file.toRealPath().toString());
            int maxPayload = options.maxPayload() > 0 ? options.maxPayload() : DriverOptions.DEFAULT_MAX_PAYLOAD;
            int block = zoneSpec.blockSize();
            ZoneLayout layout = image.zones().layout();
            BackendInfo info = new BackendInfo(size, caps, block, Math.max(block, preferredBlockSize()), maxPayload,
                    identity, "emulated zoned file " + file + " (host-managed, " + layout.zoneCount() + " zones of "
                    + layout.zoneSize() + " bytes)");
            LOG.debug("opened {} as an emulated zoned disk ({} zones of {} bytes, {} conventional, max open {}{})",
                    file, layout.zoneCount(), layout.zoneSize(), zoneSpec.conventional(), layout.maxOpen(),
                    readOnly ? ", read-only" : "");
            return new FileSession(file, channel, info, io, ByteBufAllocator.DEFAULT, image);
        } catch (IOException | RuntimeException e) {
            image.release(null);
            throw e;
        }
    }

    private int preferredBlockSize() {
        try {
            long bs = Files.getFileStore(file).getBlockSize();
            if (bs >= 512 && bs <= 1 << 20 && Long.bitCount(bs) == 1) {
                return (int) bs;
            }
        } catch (IOException | UnsupportedOperationException e) {
            LOG.debug("no block size for {}: {}", file, e.toString());
        }
        return DEFAULT_PREFERRED_BLOCK;
    }

    /** Stops the I/O threads once queued work is done (sessions are closed before this). */
    @Override
    public void shutdown() {
        io.shutdown();
    }
}
