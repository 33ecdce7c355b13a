package io.mpathnbd.server.frontend;

import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_BLOCK_STATUS;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_DISC;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_FLUSH;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_READ;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_TRIM;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_WRITE;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_WRITE_ZEROES;

import io.mpathnbd.core.request.BlockFlags;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.nbd.protocol.NbdConstants;
import io.mpathnbd.nbd.protocol.NbdProtocolException;
import io.mpathnbd.nbd.protocol.NbdRequest;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transmission phase of one connection: validates each request, turns it into a core {@link BlockRequest} and
 * submits it to the export; answers what it refuses itself; handles DISC, shutdown and the idle limit.
 *
 * <p>Admission: a connection may have at most {@link #MAX_IN_FLIGHT} requests and {@link #inFlightByteBudget} bytes
 * of READ/WRITE payload in the export at once, and none is admitted while its unsent replies exceed the channel's
 * high water mark (the client is not reading). Requests beyond that wait here, in order, and reading from the socket
 * stops until they are admitted, so a client cannot make the gateway hold more than the budget, the reply buffer and
 * one socket read's worth of requests. All state is confined to the channel's event loop.
 */
final class TransmissionHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(TransmissionHandler.class);

    /** Requests of one connection in the export at once (Linux uses up to 128 per connection, qemu 16). */
    static final int MAX_IN_FLIGHT = 1024;
    /** Payload bytes of one connection in the export at once, unless one request alone is larger. */
    static final long IN_FLIGHT_BYTES = 64L << 20;

    private final ClientConnection conn;
    private final ExportSession session;
    private final Duration idleTimeout;
    private final long inFlightByteBudget;
    /**
     * TRIM and BLOCK_STATUS lengths beyond what the core carries are cut to this (both are hints); with extended
     * headers, WRITE_ZEROES and TRIM beyond it are sent in pieces of this size ({@link LongRangeRequest}).
     */
    private final int longestHint;
    private final ArrayDeque<NbdRequest> waiting = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    private ReplyWriter replies;
    private int inFlight;
    private long inFlightBytes;
    private boolean disconnecting;
    private boolean closing;
    private boolean admitting;

    TransmissionHandler(ClientConnection conn, ExportSession session, Duration idleTimeout) {
        this.conn = conn;
        this.session = session;
        this.idleTimeout = idleTimeout;
        this.inFlightByteBudget = Math.max(IN_FLIGHT_BYTES, session.blockSizes().maximum());
        this.longestHint = Integer.MAX_VALUE & -session.blockSizes().preferred();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.replies = new ReplyWriter(ctx, session, this);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof NbdRequest)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        NbdRequest request = (NbdRequest) msg;
        if (disconnecting || !ctx.channel().isActive()) {
            // after DISC nothing may follow; after the client left, nobody would read the answer
            request.release();
            return;
        }
        if (request.type() == CMD_DISC) {
            request.release();
            disconnect();
            return;
        }
        if (!waiting.isEmpty() || !admissible(request)) {
            waiting.add(request);
            conn.pauseReading(ClientConnection.PAUSE_BACKLOG, true);
            return;
        }
        handle(request);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        // a client that does not read its replies is not read either, and what it already sent waits: its replies
        // cannot pile up without bound
        boolean writable = ctx.channel().isWritable();
        conn.pauseReading(ClientConnection.PAUSE_UNWRITABLE, !writable);
        if (writable && !waiting.isEmpty()) {
            admitWaiting();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            if (inFlight == 0 && waiting.isEmpty()) {
                conn.protocolError("idle-timeout", "idle for " + idleTimeout);
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        dropWaiting();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        dropWaiting();
    }

    /**
     * A request the decoder could not take (bad magic, the other header style, an extended payload over the limit):
     * the stream cannot be followed further, and the spec lets the server disconnect. The disconnect is clean: nothing
     * more is read, requests already accepted are answered, then the connection closes (with TLS, after close_notify).
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable violation = cause instanceof DecoderException && cause.getCause() instanceof NbdProtocolException
                ? cause.getCause() : cause;
        if (violation instanceof NbdProtocolException) {
            conn.protocolViolation("malformed-input", "malformed request: " + violation.getMessage());
            disconnect();
            return;
        }
        conn.failed(cause);
    }

    /** The front end is closing (event loop): waiting requests are refused, the connection closes when drained. */
    void beginShutdown() {
        while (!waiting.isEmpty()) {
            reject(waiting.poll(), Rejection.SHUTTING_DOWN);
        }
        conn.pauseReading(ClientConnection.PAUSE_BACKLOG, false);
        LOG.debug("{}: server shutting down, {} requests in flight", conn.remote(), inFlight);
        closeIfDrained();
    }

    /** A submitted request has been answered (event loop; called by the {@link ReplyWriter}). */
    void completed(BlockRequest request) {
        inFlight--;
        inFlightBytes -= payloadBytes(request.op(), request.length());
        if (!waiting.isEmpty()) {
            admitWaiting();
        } else {
            closeIfDrained();
        }
    }

    private void handle(NbdRequest request) {
        if (conn.shuttingDown()) {
            reject(request, Rejection.SHUTTING_DOWN);
            return;
        }
        int type = request.type();
        Rejection why = RequestValidator.check(type, request.flags(), request.offset(), request.length(),
                request.isOversized(), session);
        if (why != null) {
            reject(request, why);
            return;
        }
        long cookie = request.cookie();
        if (request.length() == 0 && type != CMD_FLUSH) {
            // the spec leaves zero-length requests open; they change and read nothing, so they succeed at once
            request.release();
            replies.emptySuccess(type, cookie, request.offset());
            return;
        }
        int flags = request.flags() & forwardedFlags(type);
        long offset = type == CMD_FLUSH ? 0 : request.offset();
        if (session.extendedHeaders() && (type == CMD_WRITE_ZEROES || type == CMD_TRIM)
                && Long.compareUnsigned(request.length(), longestHint) > 0) {
            // a 64-bit zero or trim: all of it is done, in pieces the core carries
            long length = request.length();
            request.release();
            LongRangeRequest split = new LongRangeRequest(session.export(), ctx.channel(), replies, op(type), flags,
                    offset, length, cookie, longestHint);
            inFlight++;
            split.start();
            return;
        }
        int length = carriedLength(type, request.length());
        if (type == CMD_BLOCK_STATUS && session.hasZoneContext()) {
            request.release();
            inFlight++;
            new ZoneStatusRequest(session, replies, flags, offset, length, cookie).start();
            return;
        }
        if (type == CMD_BLOCK_STATUS && !session.allocationFromExport()) {
            request.release();
            replies.allData(cookie, offset, length);
            return;
        }
        ByteBuf payload = null;
        if (type == CMD_WRITE) {
            // the request's reference to the received bytes passes to the core request: no copy
            payload = request.content();
        } else {
            request.release();
        }
        BlockRequest block = new BlockRequest(op(type), flags, offset, length, cookie, payload, replies);
        inFlight++;
        inFlightBytes += payloadBytes(block.op(), length);
        try {
            session.export().submit(block);
        } catch (RuntimeException e) {
            // a bug in the core; the request never entered it, so it is answered here
            LOG.warn("{}: export '{}' threw on {}", conn.remote(), session.name(), block, e);
            block.releasePayload();
            replies.failed(block, Errno.EIO, "internal error");
        }
    }

    private void reject(NbdRequest request, Rejection why) {
        long cookie = request.cookie();
        if (LOG.isDebugEnabled()) {
            LOG.debug("{}: refused {}: {} ({})", conn.remote(), request, Errno.name(why.errno()), why.message());
        }
        request.release();
        replies.rejected(cookie, request.offset(), why);
    }

    private void disconnect() {
        disconnecting = true;
        conn.pauseReading(ClientConnection.PAUSE_STOPPED, true);
        LOG.debug("{}: client disconnects, {} requests in flight, {} waiting", conn.remote(), inFlight,
                waiting.size());
        closeIfDrained();
    }

    private boolean admissible(NbdRequest request) {
        if (!ctx.channel().isWritable()) {
            // replies already wait for the client to read them: answering more would only add to the pile
            return false;
        }
        if (inFlight == 0) {
            return true;
        }
        if (inFlight >= MAX_IN_FLIGHT) {
            return false;
        }
        long bytes = request.type() == CMD_READ || request.type() == CMD_WRITE
                ? Long.min(Long.compareUnsigned(request.length(), Integer.MAX_VALUE) > 0 ? Integer.MAX_VALUE
                        : request.length(), session.blockSizes().maximum())
                : 0;
        return inFlightBytes + bytes <= inFlightByteBudget;
    }

    private void admitWaiting() {
        if (admitting) {
            // a request answered while it was being submitted: the loop below goes on by itself
            return;
        }
        admitting = true;
        try {
            while (!waiting.isEmpty() && admissible(waiting.peek())) {
                handle(waiting.poll());
            }
        } finally {
            admitting = false;
        }
        conn.pauseReading(ClientConnection.PAUSE_BACKLOG, !waiting.isEmpty());
        closeIfDrained();
    }

    private void closeIfDrained() {
        if ((disconnecting || conn.shuttingDown()) && inFlight == 0 && waiting.isEmpty() && !closing) {
            closing = true;
            conn.closeAfterWrites();
        }
    }

    private void dropWaiting() {
        NbdRequest r;
        while ((r = waiting.poll()) != null) {
            r.release();
        }
    }

    /**
     * The length the core request carries: the client's, except over-long hints, which are shortened (a 64-bit
     * extended length included). Anything else reaching here was validated to fit an int.
     */
    private int carriedLength(int type, long wireLength) {
        if ((type == CMD_TRIM || type == CMD_BLOCK_STATUS) && Long.compareUnsigned(wireLength, longestHint) > 0) {
            // TRIM may discard less than asked and BLOCK_STATUS may describe less: both are spec-conforming
            return longestHint;
        }
        return (int) wireLength;
    }

    /** The command flags that mean something to the core for this command (FUA only where data is written). */
    private static int forwardedFlags(int type) {
        switch (type) {
            case NbdConstants.CMD_WRITE:
            case NbdConstants.CMD_TRIM:
                return BlockFlags.FUA;
            case NbdConstants.CMD_WRITE_ZEROES:
                return BlockFlags.FUA | BlockFlags.NO_HOLE | BlockFlags.FAST_ZERO;
            case NbdConstants.CMD_READ:
                return BlockFlags.DF;
            case NbdConstants.CMD_BLOCK_STATUS:
                return BlockFlags.REQ_ONE;
            default:
                return 0;
        }
    }

    private static long payloadBytes(BlockOp op, int length) {
        return op == BlockOp.READ || op == BlockOp.WRITE ? Integer.toUnsignedLong(length) : 0;
    }

    private static BlockOp op(int type) {
        switch (type) {
            case NbdConstants.CMD_READ:
                return BlockOp.READ;
            case NbdConstants.CMD_WRITE:
                return BlockOp.WRITE;
            case NbdConstants.CMD_FLUSH:
                return BlockOp.FLUSH;
            case NbdConstants.CMD_TRIM:
                return BlockOp.TRIM;
            case NbdConstants.CMD_CACHE:
                return BlockOp.CACHE;
            case NbdConstants.CMD_WRITE_ZEROES:
                return BlockOp.WRITE_ZEROES;
            case NbdConstants.CMD_BLOCK_STATUS:
                return BlockOp.BLOCK_STATUS;
            default:
                throw new IllegalArgumentException("not a data command: " + type);
        }
    }
}
