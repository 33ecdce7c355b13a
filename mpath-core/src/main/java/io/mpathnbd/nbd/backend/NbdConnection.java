package io.mpathnbd.nbd.backend;

import io.mpathnbd.core.backend.BackendCallback;
import io.mpathnbd.core.backend.BackendException;
import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.request.BlockFlags;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.core.request.Extents;
import io.mpathnbd.nbd.protocol.NbdBlockStatusChunk;
import io.mpathnbd.nbd.protocol.NbdChunk;
import io.mpathnbd.nbd.protocol.NbdConstants;
import io.mpathnbd.nbd.protocol.NbdErrorChunk;
import io.mpathnbd.nbd.protocol.NbdOffsetDataChunk;
import io.mpathnbd.nbd.protocol.NbdOffsetHoleChunk;
import io.mpathnbd.nbd.protocol.NbdProtocolException;
import io.mpathnbd.nbd.protocol.NbdReplyDecoder;
import io.mpathnbd.nbd.protocol.NbdRequest;
import io.mpathnbd.nbd.protocol.NbdRequestEncoder;
import io.mpathnbd.nbd.protocol.NbdSimpleReply;
import io.mpathnbd.nbd.protocol.NbdUnknownChunk;
import io.mpathnbd.nbd.protocol.ReadLengthLookup;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.DecoderException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * One TCP connection of an NBD session in the transmission phase. Confined to its event loop: requests from other
 * threads hop onto it, the pending table and reply assembly need no locks. Requests are written as they come and
 * flushed once per event-loop batch. Anything that breaks the connection (EOF, reset, a protocol violation, a request
 * unanswered for too long) is reported to the owning session, which ends all its connections together.
 */
final class NbdConnection extends ChannelInboundHandlerAdapter implements ReadLengthLookup {
    static final String TLS = "tls";
    static final String HANDSHAKE_DECODER = "nbd-handshake-decoder";
    static final String HANDSHAKE_ENCODER = "nbd-handshake-encoder";
    static final String HANDSHAKE = "nbd-handshake";
    static final String REPLY_DECODER = "nbd-reply-decoder";
    static final String REQUEST_ENCODER = "nbd-request-encoder";
    static final String TRANSMISSION = "nbd-transmission";

    private static final NbdRequestEncoder COMPACT_REQUEST_ENCODER = new NbdRequestEncoder(false);
    private static final NbdRequestEncoder EXTENDED_REQUEST_ENCODER = new NbdRequestEncoder(true);
    private static final int[] COMMANDS = commands();

    /** What a connection tells its session. Called on the connection's event loop. */
    interface Owner {
        void connectionLost(NbdConnection connection, String reason);

        void connectionHung(NbdConnection connection, String reason);
    }

    private final Channel channel;
    private final EventLoop loop;
    private final Negotiated negotiated;
    private final int maxPayload;
    private final Duration requestTimeout;
    private final long timeoutNanos;
    private final String display;
    private final PendingTable pending = new PendingTable(64);
    private final Runnable flushTask = this::flushNow;

    private ChannelHandlerContext ctx;
    private Owner owner;
    private String earlyLoss;
    private boolean flushScheduled;
    private boolean closed;
    private String closeReason;
    private ScheduledFuture<?> timeoutCheck;

    NbdConnection(Channel channel, Negotiated negotiated, int maxPayload, Duration requestTimeout, String display) {
        this.channel = channel;
        this.loop = channel.eventLoop();
        this.negotiated = negotiated;
        this.maxPayload = maxPayload;
        this.requestTimeout = requestTimeout;
        this.timeoutNanos = requestTimeout.toNanos();
        this.display = display;
    }

    static NbdRequestEncoder requestEncoder(boolean extended) {
        return extended ? EXTENDED_REQUEST_ENCODER : COMPACT_REQUEST_ENCODER;
    }

    NbdReplyDecoder newReplyDecoder() {
        return new NbdReplyDecoder(this, maxPayload, negotiated.extended());
    }

    Negotiated negotiated() {
        return negotiated;
    }

    Channel channel() {
        return channel;
    }

    EventLoop eventLoop() {
        return loop;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /** Hands the connection to its session and starts the periodic check for unanswered requests. */
    void attach(Owner owner) {
        execute(() -> {
            this.owner = owner;
            if (earlyLoss != null) {
                owner.connectionLost(this, earlyLoss);
                return;
            }
            if (!closed) {
                // a hung request is noticed at most one period late; 25 ms keeps a failover within the io-timeout
                // plus the fence delay plus a little, at 40 cheap wake-ups a second per backend connection
                long period = Math.min(TimeUnit.MILLISECONDS.toNanos(25),
                        Math.max(TimeUnit.MILLISECONDS.toNanos(5), timeoutNanos / 4));
                timeoutCheck = loop.scheduleAtFixedRate(this::checkTimeouts, period, period, TimeUnit.NANOSECONDS);
            }
        });
    }

    /** Sends one request from any thread; the callback is always called exactly once. */
    void submit(BlockRequest request, BackendCallback callback) {
        if (loop.inEventLoop()) {
            send(request, callback);
            return;
        }
        try {
            loop.execute(() -> send(request, callback));
        } catch (RejectedExecutionException e) {
            callback.failed(Failure.path(display + ": event loop shut down"));
        }
    }

    private void send(BlockRequest request, BackendCallback callback) {
        if (closed) {
            callback.failed(Failure.path(display + ": " + closeReason));
            return;
        }
        BlockOp op = request.op();
        int length = request.length();
        if ((op == BlockOp.READ || op == BlockOp.WRITE) && length > maxPayload) {
            callback.failed(Failure.target(Errno.EINVAL, display + ": " + op + " of " + length
                    + " bytes exceeds this path's maximum payload of " + maxPayload));
            return;
        }
        ByteBuf payload = null;
        if (op == BlockOp.WRITE) {
            ByteBuf p = request.payload();
            if (p == null || p.readableBytes() != length) {
                callback.failed(Failure.target(Errno.EINVAL, display + ": WRITE of " + length + " bytes carries "
                        + (p == null ? "no payload" : p.readableBytes() + " payload bytes")));
                return;
            }
            payload = p.retainedDuplicate();
        } else if (op == BlockOp.BLOCK_STATUS && negotiated.allocationContextId() < 0) {
            // no allocation information on this path: "all data" is always a correct answer
            callback.succeeded(null, Extents.allData(length));
            return;
        }
        int flags = request.flags() & BlockFlags.ALL;
        if (!negotiated.structured()) {
            flags &= ~BlockFlags.DF;
        }
        PendingTable.Slot slot = pending.acquire(request, callback, System.nanoTime());
        ctx.write(new NbdRequest(flags, COMMANDS[op.ordinal()], slot.cookie(), request.offset(), length, payload),
                ctx.voidPromise());
        if (!flushScheduled) {
            flushScheduled = true;
            loop.execute(flushTask);
        }
    }

    private void flushNow() {
        flushScheduled = false;
        if (!closed) {
            ctx.flush();
        }
    }

    @Override
    public int expectedReadLength(long cookie) {
        PendingTable.Slot s = pending.find(cookie);
        if (s == null) {
            return -1;
        }
        return s.request.op() == BlockOp.READ ? s.request.length() : 0;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (closed) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof NbdSimpleReply) {
            onSimpleReply((NbdSimpleReply) msg);
        } else if (msg instanceof NbdChunk) {
            onChunk((NbdChunk) msg);
        } else {
            ReferenceCountUtil.release(msg);
            protocolError("unexpected message " + msg.getClass().getSimpleName());
        }
    }

    private void onSimpleReply(NbdSimpleReply reply) {
        PendingTable.Slot s = pending.find(reply.cookie());
        if (s == null || s.readState != null || s.extents != null || s.error != 0) {
            reply.release();
            protocolError(s == null ? "reply for unknown cookie " + Long.toUnsignedString(reply.cookie())
                    : "simple reply in the middle of a structured reply");
            return;
        }
        BlockRequest request = s.request;
        BackendCallback callback = s.callback;
        if (reply.error() != 0) {
            reply.release();
            pending.release(s);
            callback.failed(NbdErrors.classify(reply.error(), null, display + ": " + request));
            return;
        }
        if (request.op() == BlockOp.BLOCK_STATUS) {
            reply.release();
            protocolError("simple reply without extents to " + request);
            return;
        }
        ByteBuf data = null;
        if (request.op() == BlockOp.READ) {
            data = reply.content(); // ownership of the retained slice passes to the callback
        } else {
            reply.release();
        }
        pending.release(s);
        callback.succeeded(data, null);
    }

    private void onChunk(NbdChunk chunk) {
        PendingTable.Slot s = pending.find(chunk.cookie());
        if (s == null) {
            chunk.release();
            protocolError("reply chunk for unknown cookie " + Long.toUnsignedString(chunk.cookie()));
            return;
        }
        String violation = absorb(s, chunk);
        if (violation != null) {
            protocolError(violation);
            return;
        }
        if (chunk.isDone()) {
            complete(s);
        }
    }

    /** Takes one chunk into the slot's reply state and consumes it. Returns a protocol violation, or null. */
    private String absorb(PendingTable.Slot s, NbdChunk chunk) {
        BlockRequest request = s.request;
        int type = chunk.type();
        if (type == NbdConstants.REPLY_TYPE_OFFSET_DATA) {
            ByteBuf data = ((NbdOffsetDataChunk) chunk).data();
            if (request.op() != BlockOp.READ) {
                chunk.release();
                return "OFFSET_DATA chunk in the reply to " + request;
            }
            // the chunk's reference to its data passes to the reply state
            return addRead(s, ((NbdOffsetDataChunk) chunk).offset(), data.readableBytes(), data);
        }
        try {
            switch (type) {
                case NbdConstants.REPLY_TYPE_OFFSET_HOLE: {
                    NbdOffsetHoleChunk hole = (NbdOffsetHoleChunk) chunk;
                    if (request.op() != BlockOp.READ) {
                        return "OFFSET_HOLE chunk in the reply to " + request;
                    }
                    return addRead(s, hole.offset(), Integer.toUnsignedLong(hole.holeSize()), null);
                }
                case NbdConstants.REPLY_TYPE_BLOCK_STATUS:
                case NbdConstants.REPLY_TYPE_BLOCK_STATUS_EXT: {
                    // the decoder accepts BLOCK_STATUS_EXT only on an extended connection, its lengths cut to 32 bits
                    NbdBlockStatusChunk status = (NbdBlockStatusChunk) chunk;
                    if (request.op() != BlockOp.BLOCK_STATUS) {
                        return "BLOCK_STATUS chunk in the reply to " + request;
                    }
                    if (status.contextId() == negotiated.allocationContextId()) {
                        if (s.extents != null) {
                            return "two BLOCK_STATUS chunks for one context in the reply to " + request;
                        }
                        s.extents = clip(status.extents(), request.length());
                    }
                    return null;
                }
                case NbdConstants.REPLY_TYPE_NONE:
                    return null;
                case NbdConstants.REPLY_TYPE_ERROR:
                case NbdConstants.REPLY_TYPE_ERROR_OFFSET: {
                    NbdErrorChunk error = (NbdErrorChunk) chunk;
                    recordError(s, error.error(), error.message());
                    return null;
                }
                default:
                    // the spec: an unknown error type fails the request, any other unknown type ends the connection
                    int errorValue = chunk instanceof NbdUnknownChunk ? ((NbdUnknownChunk) chunk).errorValue() : 0;
                    if (chunk.isError() && errorValue != 0) {
                        recordError(s, errorValue, "error chunk of unknown type " + type);
                        return null;
                    }
                    return "reply chunk of unknown type " + type;
            }
        } finally {
            chunk.release();
        }
    }

    /** The first error of a reply is the one reported. */
    private static void recordError(PendingTable.Slot s, int error, String message) {
        if (s.error == 0) {
            s.error = error;
            s.errorMessage = message;
        }
    }

    /** Adds a data piece (or a hole when data is null) of a READ reply; takes ownership of data. */
    private String addRead(PendingTable.Slot s, long absoluteOffset, long length, ByteBuf data) {
        BlockRequest request = s.request;
        long offset = absoluteOffset - request.offset();
        if (offset < 0 || length <= 0 || offset + length > request.length()) {
            if (data != null) {
                data.release();
            }
            return "read chunk at " + Long.toUnsignedString(absoluteOffset) + "+" + length + " outside " + request;
        }
        int total = request.length();
        Object state = s.readState;
        if (state == null && offset == 0 && length == total && data != null) {
            s.readState = data; // the usual case: one chunk holds the whole range, passed on as it is
            return null;
        }
        if (state instanceof ByteBuf) {
            if (data != null) {
                data.release();
            }
            return "overlapping read chunks in the reply to " + request;
        }
        ReadAssembly assembly = (ReadAssembly) state;
        if (assembly == null) {
            assembly = new ReadAssembly();
            s.readState = assembly;
        }
        if (!assembly.add((int) offset, (int) length, data, total)) {
            return "overlapping read chunks in the reply to " + request;
        }
        return null;
    }

    /** The reply to the slot's request is complete: deliver it. */
    private void complete(PendingTable.Slot s) {
        BlockRequest request = s.request;
        BackendCallback callback = s.callback;
        if (s.error != 0) {
            Failure failure = NbdErrors.classify(s.error, s.errorMessage, display + ": " + request);
            releaseReadState(s);
            pending.release(s);
            callback.failed(failure);
            return;
        }
        ByteBuf data = null;
        Extents extents = null;
        if (request.op() == BlockOp.READ) {
            data = takeRead(s);
            if (data == null) {
                protocolError("read chunks do not cover the range of " + request);
                return;
            }
        } else if (request.op() == BlockOp.BLOCK_STATUS) {
            extents = s.extents;
            if (extents == null) {
                protocolError("no base:allocation extents in the reply to " + request);
                return;
            }
            if (request.hasFlag(BlockFlags.REQ_ONE)) {
                extents = extents.first();
            }
        } else if (s.readState != null) {
            releaseReadState(s);
        }
        pending.release(s);
        callback.succeeded(data, extents);
    }

    private ByteBuf takeRead(PendingTable.Slot s) {
        Object state = s.readState;
        s.readState = null;
        if (state instanceof ByteBuf) {
            return (ByteBuf) state;
        }
        if (state instanceof ReadAssembly) {
            return ((ReadAssembly) state).finish(ctx.alloc(), s.request.length());
        }
        return s.request.length() == 0 ? Unpooled.EMPTY_BUFFER : null;
    }

    private static void releaseReadState(PendingTable.Slot s) {
        Object state = s.readState;
        s.readState = null;
        if (state instanceof ByteBuf) {
            ((ByteBuf) state).release();
        } else if (state instanceof ReadAssembly) {
            ((ReadAssembly) state).release();
        }
    }

    /** Extents beyond the requested range (a server may report more) are cut at its end. */
    private static Extents clip(Extents e, int requestLength) {
        long limit = Integer.toUnsignedLong(requestLength);
        int n = e.count();
        long sum = 0;
        for (int i = 0; i < n; i++) {
            long end = sum + Integer.toUnsignedLong(e.length(i));
            if (end >= limit) {
                if (end == limit && i == n - 1) {
                    return e;
                }
                int[] lengths = new int[i + 1];
                int[] flags = new int[i + 1];
                for (int j = 0; j <= i; j++) {
                    lengths[j] = e.length(j);
                    flags[j] = e.flags(j);
                }
                lengths[i] = (int) (limit - sum);
                return new Extents(lengths, flags);
            }
            sum = end;
        }
        return e;
    }

    private void checkTimeouts() {
        if (closed || owner == null) {
            return;
        }
        long oldest = pending.oldestStartNanos();
        if (oldest != Long.MAX_VALUE && System.nanoTime() - oldest >= timeoutNanos) {
            owner.connectionHung(this, "a request has been unanswered for more than " + requestTimeout.toMillis()
                    + " ms (" + pending.size() + " in flight)");
        }
    }

    private void protocolError(String violation) {
        lose("protocol error: " + violation);
    }

    private void lose(String reason) {
        if (closed) {
            return;
        }
        if (owner == null) {
            // lost before the session took charge: it learns this on attach
            if (earlyLoss == null) {
                earlyLoss = reason;
            }
            channel.close();
            return;
        }
        owner.connectionLost(this, reason);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        lose("connection closed by the server");
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof DecoderException && cause.getCause() instanceof SSLException) {
            // the TLS layer's own failure (an alert, a bad record): an I/O error like a reset
            cause = cause.getCause();
        }
        if (cause instanceof NbdProtocolException) {
            lose("protocol error: " + BackendException.describe(cause));
        } else if (cause instanceof IOException) {
            lose("connection error: " + BackendException.describe(cause));
        } else {
            lose("unexpected error: " + cause);
        }
    }

    /**
     * Ends this connection from any thread: every pending request fails with {@code failure}, later submissions fail
     * as PATH errors with {@code reason}, and the socket is closed with a reset (SO_LINGER 0) so that the server drops
     * whatever it has not read yet.
     */
    void abort(Failure failure, String reason) {
        execute(() -> abortNow(failure, reason));
    }

    private void abortNow(Failure failure, String reason) {
        if (closed) {
            return;
        }
        closed = true;
        closeReason = reason;
        if (timeoutCheck != null) {
            timeoutCheck.cancel(false);
        }
        for (int i = 0; i < pending.capacity(); i++) {
            PendingTable.Slot s = pending.slot(i);
            if (s.inUse()) {
                BackendCallback callback = s.callback;
                releaseReadState(s);
                pending.release(s);
                callback.failed(failure);
            }
        }
        if (channel.isOpen()) {
            try {
                channel.config().setOption(ChannelOption.SO_LINGER, 0);
            } catch (RuntimeException e) {
                // already closing: nothing to reset
            }
            channel.close();
        }
    }

    /** Runs on the event loop; runs inline if the loop is gone (then nothing else can touch this connection). */
    private void execute(Runnable task) {
        if (loop.inEventLoop()) {
            task.run();
            return;
        }
        try {
            loop.execute(task);
        } catch (RejectedExecutionException e) {
            task.run();
        }
    }

    int inFlight() {
        return pending.size();
    }

    private static int[] commands() {
        int[] c = new int[BlockOp.count()];
        c[BlockOp.READ.ordinal()] = NbdConstants.CMD_READ;
        c[BlockOp.WRITE.ordinal()] = NbdConstants.CMD_WRITE;
        c[BlockOp.FLUSH.ordinal()] = NbdConstants.CMD_FLUSH;
        c[BlockOp.TRIM.ordinal()] = NbdConstants.CMD_TRIM;
        c[BlockOp.CACHE.ordinal()] = NbdConstants.CMD_CACHE;
        c[BlockOp.WRITE_ZEROES.ordinal()] = NbdConstants.CMD_WRITE_ZEROES;
        c[BlockOp.BLOCK_STATUS.ordinal()] = NbdConstants.CMD_BLOCK_STATUS;
        return c;
    }
}
