package io.mpathnbd.file;

import io.mpathnbd.core.backend.BackendCallback;
import io.mpathnbd.core.backend.BackendInfo;
import io.mpathnbd.core.backend.BackendSession;
import io.mpathnbd.core.backend.Capability;
import io.mpathnbd.core.backend.Failure;
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
 * <p>{@link #close()} lets requests already running finish, fails those still queued (they never touch the disk),
 * then closes the channel; its future completes after that.
 */
public final class FileSession implements BackendSession {
    private static final Logger LOG = LoggerFactory.getLogger(FileSession.class);
    /** Shared source for WRITE_ZEROES; positional writes only read it. */
    private static final ByteBuffer ZEROES = ByteBuffer.allocateDirect(256 * 1024).asReadOnlyBuffer();
    private static final int PROBE_BYTES = 512;

    private final Path file;
    private final FileChannel channel;
    private final BackendInfo info;
    private final long size;
    private final boolean readOnly;
    private final boolean sizeFromChannel;
    private final Executor pool;
    private final ByteBufAllocator allocator;

    private final AtomicInteger active = new AtomicInteger();
    private final AtomicBoolean finished = new AtomicBoolean();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private volatile boolean closing;
    private volatile String lossReason;

    FileSession(Path file, FileChannel channel, BackendInfo info, Executor pool, ByteBufAllocator allocator)
            throws IOException {
        this.file = file;
        this.channel = channel;
        this.info = info;
        this.size = info.size();
        this.readOnly = info.has(Capability.READ_ONLY);
        this.sizeFromChannel = channel.size() == info.size();
        this.pool = pool;
        this.allocator = allocator;
    }

    @Override
    public BackendInfo info() {
        return info;
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
                    } else {
                        data = read(offset, length);
                    }
                    break;
                case WRITE:
                    failure = checkWrite(request, Errno.ENOSPC);
                    if (failure == null) {
                        if (payload == null || payload.readableBytes() != length) {
                            failure = Failure.target(Errno.EINVAL, "write payload of "
                                    + (payload == null ? 0 : payload.readableBytes()) + " bytes for length " + length);
                        } else {
                            write(payload, offset, length);
                            task.release(); // the bytes are in the file: no need to hold the buffer for the FUA
                            fuaIfAsked(request);
                        }
                    }
                    break;
                case WRITE_ZEROES:
                    failure = checkWrite(request, Errno.ENOSPC);
                    if (failure == null && request.hasFlag(BlockFlags.FAST_ZERO)) {
                        failure = Failure.target(Errno.ENOTSUP, "the file backend cannot zero quickly");
                    }
                    if (failure == null) {
                        writeZeroes(offset, length);
                        fuaIfAsked(request);
                    }
                    break;
                case FLUSH:
                    channel.force(false);
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
            int done = 0;
            while (done < length) {
                int n = buf.writeBytes(channel, offset + done, length - done);
                if (n < 0) {
                    throw new IOException("short read: end of file at " + (offset + done) + " (did the file shrink?)");
                }
                done += n;
            }
            ok = true;
            return buf;
        } finally {
            if (!ok) {
                buf.release();
            }
        }
    }

    private void write(ByteBuf payload, long offset, int length) throws IOException {
        long position = offset;
        for (ByteBuffer b : payload.nioBuffers(payload.readerIndex(), length)) {
            while (b.hasRemaining()) {
                position += channel.write(b, position);
            }
        }
    }

    private void writeZeroes(long offset, int length) throws IOException {
        long position = offset;
        long end = offset + length;
        while (position < end) {
            ByteBuffer z = ZEROES.duplicate();
            z.limit((int) Math.min(z.capacity(), end - position));
            while (z.hasRemaining()) {
                position += channel.write(z, position);
            }
        }
    }

    private void fuaIfAsked(BlockRequest request) throws IOException {
        if (request.hasFlag(BlockFlags.FUA)) {
            channel.force(false);
        }
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
            try {
                channel.close();
            } catch (IOException e) {
                LOG.warn("closing {} failed: {}", file, e.toString());
            }
            closed.complete(null);
        }
    }
}
