package io.mpathnbd.file;

import io.mpathnbd.core.backend.BackendCallback;
import io.mpathnbd.core.backend.BackendInfo;
import io.mpathnbd.core.backend.BackendSession;
import io.mpathnbd.core.backend.Capability;
import io.mpathnbd.core.backend.ControlResult;
import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.backend.ZoneOps;
import io.mpathnbd.core.request.BlockFlags;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.core.request.Extents;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One open {@link FileChannel} on the file or device. Requests run as positional I/O on the driver's thread pool and
 * are answered from there. Errors: out of range and the like are the NBD answers (EINVAL, ENOSPC, EPERM); an
 * {@link IOException} is the disk's own error (TARGET EIO), not the path's, because there is no transport between
 * us and a local disk that another path could avoid. Requests are not timed out: a blocked pread cannot be cancelled
 * in Java, and a local disk that hangs hangs every path to it.
 *
 * <p>On an emulated zoned disk ({@link ZonedImage}) writes and WRITE_ZEROES go through the zone state machine
 * (refusals are TARGET failures with their zone error), reads return zeros past each zone's data, FLUSH and FUA
 * also save the write pointers, and {@link #zones()} offers the zone commands.
 *
 * <p>{@link #close()} lets requests already running finish, fails those still queued (they never touch the disk),
 * then closes the channel; its future completes after that.
 */
public final class FileSession implements BackendSession {
    private static final Logger LOG = LoggerFactory.getLogger(FileSession.class);
    private static final int PROBE_BYTES = 512;

    private final Path file;
    private final FileChannel channel;
    private final BackendInfo info;
    private final long size;
    private final boolean readOnly;
    private final boolean sizeFromChannel;
    private final Executor pool;
    private final ByteBufAllocator allocator;
    /** The emulated zoned disk, or null for a plain file. */
    private final ZonedImage image;
    private final ZonedIo zonedIo;
    private final ZoneOps zoneOps;

    private final AtomicInteger active = new AtomicInteger();
    private final AtomicBoolean finished = new AtomicBoolean();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private volatile boolean closing;
    private volatile String lossReason;

    /** @param image the emulated zoned disk this session is a user of (released on close), or null */
    FileSession(Path file, FileChannel channel, BackendInfo info, Executor pool, ByteBufAllocator allocator,
            ZonedImage image) throws IOException {
        this.file = file;
        this.channel = channel;
        this.info = info;
        this.size = info.size();
        this.readOnly = info.has(Capability.READ_ONLY);
        this.sizeFromChannel = channel.size() == info.size();
        this.pool = pool;
        this.allocator = allocator;
        this.image = image;
        this.zonedIo = image == null ? null : new ZonedIo(image.zones(), channel);
        this.zoneOps = image == null ? null : new FileZoneOps(this, image, channel, readOnly);
    }

    @Override
    public BackendInfo info() {
        return info;
    }

    @Override
    public ZoneOps zones() {
        return zoneOps;
    }

    @Override
    public void submit(BlockRequest request, BackendCallback callback) {
        if (!enter()) {
            callback.failed(Failure.path("session on " + file + " is closed"));
            return;
        }
        ByteBuf payload = null;
        if (request.op() == BlockOp.WRITE && request.payload() != null) {
            payload = request.payload().retainedDuplicate();
        }
        try {
            pool.execute(new Task(request, payload, callback));
        } catch (RejectedExecutionException e) {
            if (payload != null) {
                payload.release();
            }
            leave();
            callback.failed(Failure.path("file I/O pool for " + file + " is shut down"));
        }
    }

    /** One request's run on the pool. */
    private final class Task implements Runnable {
        private final BlockRequest request;
        private final BackendCallback callback;
        private ByteBuf payload;

        Task(BlockRequest request, ByteBuf payload, BackendCallback callback) {
            this.request = request;
            this.payload = payload;
            this.callback = callback;
        }

        @Override
        public void run() {
            try {
                if (closing) {
                    release();
                    callback.failed(Failure.path("session on " + file + " closed before the request ran"));
                    return;
                }
                perform(request, payload, callback, this);
            } finally {
                release();
                leave();
            }
        }

        void release() {
            ByteBuf p = payload;
            if (p != null) {
                payload = null;
                p.release();
            }
        }
    }

    private void perform(BlockRequest request, ByteBuf payload, BackendCallback callback, Task task) {
        long offset = request.offset();
        int length = request.length();
        ByteBuf data = null;
        Failure failure = null;
        Extents extents = null;
        try {
            switch (request.op()) {
                case READ:
                    if (!inRange(offset, length)) {
                        failure = Failure.target(Errno.EINVAL, outOfRange(request));
                    } else if (zonedIo == null) {
                        data = read(offset, length);
                    } else {
                        data = allocator.directBuffer(length, length);
                        failure = zonedIo.read(data, offset, length);
                    }
                    break;
                case WRITE:
                    failure = checkWrite(request, Errno.ENOSPC);
                    if (failure == null) {
                        if (payload == null || payload.readableBytes() != length) {
                            failure = Failure.target(Errno.EINVAL, "write payload of "
                                    + (payload == null ? 0 : payload.readableBytes()) + " bytes for length " + length);
                        } else {
                            if (zonedIo == null) {
                                FileIo.write(channel, payload, offset, length);
                            } else {
                                failure = zonedIo.write(payload, offset, length);
                            }
                            task.release(); // the bytes are in the file: no need to hold the buffer for the FUA
                            if (failure == null) {
                                fuaIfAsked(request);
                            }
                        }
                    }
                    break;
                case WRITE_ZEROES:
                    failure = checkWrite(request, Errno.ENOSPC);
                    if (failure == null && request.hasFlag(BlockFlags.FAST_ZERO)) {
                        failure = Failure.target(Errno.ENOTSUP, "the file backend cannot zero quickly");
                    }
                    if (failure == null && zonedIo != null) {
                        failure = zonedIo.write(null, offset, length);
                    } else if (failure == null) {
                        FileIo.writeZeroes(channel, offset, length);
                    }
                    if (failure == null) {
                        fuaIfAsked(request);
                    }
                    break;
                case FLUSH:
                    flush();
                    break;
                case BLOCK_STATUS:
                    if (!inRange(offset, length)) {
                        failure = Failure.target(Errno.EINVAL, outOfRange(request));
                    } else {
                        extents = Extents.allData(length);
                    }
                    break;
                case TRIM:
                case CACHE:
                default:
                    failure = Failure.target(Errno.EINVAL, request.op() + " is not supported by the file backend");
                    break;
            }
        } catch (ClosedChannelException e) {
            // the channel went away under us (an interrupt closes it): this session is lost, another may work
            lossReason = "file channel on " + file + " closed unexpectedly";
            closing = true;
            failure = Failure.path(lossReason);
        } catch (IOException e) {
            failure = Failure.target(Errno.EIO, request.op() + " at offset " + offset + " of " + file + ": " + e);
        }
        task.release(); // the backend's own reference goes before the answer, so the core sees the request free
        if (failure != null) {
            if (data != null) {
                data.release();
            }
            callback.failed(failure);
        } else {
            callback.succeeded(data, extents);
        }
    }

    private Failure checkWrite(BlockRequest request, int rangeErrno) {
        if (readOnly) {
            return Failure.target(Errno.EPERM, file + " is read-only");
        }
        if (!inRange(request.offset(), request.length())) {
            return Failure.target(rangeErrno, outOfRange(request));
        }
        return null;
    }

    private ByteBuf read(long offset, int length) throws IOException {
        ByteBuf buf = allocator.directBuffer(length, length);
        boolean ok = false;
        try {
            FileIo.readInto(channel, buf, offset, length);
            ok = true;
            return buf;
        } finally {
            if (!ok) {
                buf.release();
            }
        }
    }

    private void fuaIfAsked(BlockRequest request) throws IOException {
        if (request.hasFlag(BlockFlags.FUA)) {
            flush();
        }
    }

    /** The data durable, and for a zoned disk its write pointers too. */
    private void flush() throws IOException {
        if (image != null) {
            image.flush(channel);
        } else {
            channel.force(false);
        }
    }

    /** One control command run on the I/O threads, counted like a request so {@link #close()} waits for it. */
    interface ControlCall<T> {
        ControlResult<T> run() throws IOException;
    }

    <T> CompletableFuture<ControlResult<T>> control(String what, ControlCall<T> call) {
        CompletableFuture<ControlResult<T>> result = new CompletableFuture<>();
        if (!enter()) {
            result.complete(ControlResult.failed(Failure.path("session on " + file + " is closed")));
            return result;
        }
        try {
            pool.execute(() -> {
                try {
                    result.complete(closing
                            ? ControlResult.failed(Failure.path("session on " + file + " closed before " + what))
                            : call.run());
                } catch (ClosedChannelException e) {
                    lossReason = "file channel on " + file + " closed unexpectedly";
                    closing = true;
                    result.complete(ControlResult.failed(Failure.path(lossReason)));
                } catch (IOException | RuntimeException e) {
                    result.complete(ControlResult.failed(Failure.target(Errno.EIO, what + " on " + file + ": " + e)));
                } finally {
                    leave();
                }
            });
        } catch (RejectedExecutionException e) {
            leave();
            result.complete(ControlResult.failed(Failure.path("file I/O pool for " + file + " is shut down")));
        }
        return result;
    }

    private boolean inRange(long offset, int length) {
        return offset >= 0 && length >= 0 && offset <= size - length;
    }

    private String outOfRange(BlockRequest request) {
        return request.op() + " of " + request.length() + " bytes at offset " + request.offset()
                + " is beyond the end of the disk (" + size + " bytes)";
    }

    @Override
    public CompletableFuture<Void> probe() {
        CompletableFuture<Void> result = new CompletableFuture<>();
        if (!enter()) {
            result.completeExceptionally(new IOException("session on " + file + " is closed"));
            return result;
        }
        try {
            pool.execute(() -> {
                try {
                    if (sizeFromChannel && channel.size() != size) {
                        throw new IOException(file + " changed size from " + size + " to " + channel.size());
                    }
                    ByteBuffer b = ByteBuffer.allocate((int) Math.min(PROBE_BYTES, size));
                    while (b.hasRemaining() && channel.read(b, b.position()) >= 0) {
                        // a small read shows the disk still answers
                    }
                    result.complete(null);
                } catch (IOException | RuntimeException e) {
                    result.completeExceptionally(e);
                } finally {
                    leave();
                }
            });
        } catch (RejectedExecutionException e) {
            leave();
            result.completeExceptionally(e);
        }
        return result;
    }

    @Override
    public CompletableFuture<Void> close() {
        closing = true;
        if (active.get() == 0) {
            finish();
        }
        return closed;
    }

    @Override
    public CompletableFuture<Void> closeFuture() {
        return closed;
    }

    @Override
    public String lossReason() {
        return lossReason;
    }

    private boolean enter() {
        active.incrementAndGet();
        if (closing) {
            leave();
            return false;
        }
        return true;
    }

    private void leave() {
        if (active.decrementAndGet() == 0 && closing) {
            finish();
        }
    }

    private void finish() {
        if (finished.compareAndSet(false, true)) {
            if (image != null) {
                try { // saving the pointers forces the image: not on the caller's thread, maybe an event loop
                    pool.execute(this::closeChannel);
                    return;
                } catch (RejectedExecutionException e) {
                    LOG.debug("I/O pool of {} shut down: closing on this thread", file);
                }
            }
            closeChannel();
        }
    }

    private void closeChannel() {
        if (image != null) {
            try {
                image.release(channel);
            } catch (IOException | RuntimeException e) {
                LOG.warn("saving the write pointers of {} to {} failed: {}", file, image.statePath(), e.toString());
            }
        }
        try {
            channel.close();
        } catch (IOException e) {
            LOG.warn("closing {} failed: {}", file, e.toString());
        }
        closed.complete(null);
    }
}
