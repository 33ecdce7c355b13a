package io.mpathnbd.server.frontend;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.DecoderException;
import java.io.IOException;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection's life outside the protocol handlers: whether its requests are read (backpressure, DISC),
 * shutdown, protocol-error closes, and the observer calls for it. Everything except {@link #beginShutdown()} runs
 * on the channel's event loop.
 */
final class ClientConnection {
    private static final Logger LOG = LoggerFactory.getLogger(ClientConnection.class);

    /** Reasons to stop reading requests; reading resumes when none is left. */
    static final int PAUSE_UNWRITABLE = 1;
    static final int PAUSE_BACKLOG = 1 << 1;
    static final int PAUSE_STOPPED = 1 << 2;
    /** A handshake option waits for its export to get a usable path. */
    static final int PAUSE_WAITING = 1 << 3;

    private final Channel channel;
    private final String remote;
    private final FrontendObserver observer;
    private int readPause;
    private long readingResumedNanos;
    private volatile boolean shuttingDown;
    private boolean closeReported;
    private TransmissionHandler transmission;
    private String attachedExport;

    ClientConnection(Channel channel, FrontendObserver observer) {
        this.channel = channel;
        this.remote = String.valueOf(channel.remoteAddress());
        this.observer = observer;
    }

    Channel channel() {
        return channel;
    }

    /** The client's address, for logs. */
    String remote() {
        return remote;
    }

    FrontendObserver observer() {
        return observer;
    }

    boolean shuttingDown() {
        return shuttingDown;
    }

    /** Adds or removes one reason not to read; auto-read follows whether any reason is left. */
    void pauseReading(int reason, boolean pause) {
        int before = readPause;
        readPause = pause ? before | reason : before & ~reason;
        if ((before == 0) != (readPause == 0)) {
            channel.config().setAutoRead(readPause == 0);
            if (readPause == 0) {
                readingResumedNanos = System.nanoTime();
            }
        }
    }

    /** Whether requests are read now. */
    boolean reading() {
        return readPause == 0;
    }

    /** {@link System#nanoTime()} when reading last resumed after a pause (0 if it never paused). */
    long readingResumedNanos() {
        return readingResumedNanos;
    }

    /** The connection entered transmission on {@code exportName}. */
    void attached(String exportName, TransmissionHandler handler) {
        this.transmission = handler;
        this.attachedExport = exportName;
        observer.clientAttached(exportName);
    }

    /**
     * The front end is closing: a connection still negotiating is closed at once; one in transmission answers
     * further requests with ESHUTDOWN and closes once its requests in flight are answered. Any thread.
     */
    void beginShutdown() {
        shuttingDown = true;
        EventLoop loop = channel.eventLoop();
        if (loop.inEventLoop()) {
            onShutdown();
            return;
        }
        try {
            loop.execute(this::onShutdown);
        } catch (RejectedExecutionException e) {
            // the loop is gone, and the channel with it
            channel.close();
        }
    }

    private void onShutdown() {
        if (!channel.isOpen()) {
            return;
        }
        if (transmission == null) {
            LOG.debug("{}: closing connection still in handshake: server shutting down", remote);
            channel.close();
        } else {
            transmission.beginShutdown();
        }
    }

    /**
     * Stops reading and closes once everything written so far has gone out (a plain close would drop replies still
     * queued behind a slow client). The marker write starts at the head of the pipeline, past the encoders.
     */
    void closeAfterWrites() {
        pauseReading(PAUSE_STOPPED, true);
        ChannelHandlerContext first = channel.pipeline().firstContext();
        if (first == null) {
            channel.close();
            return;
        }
        first.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    /**
     * Counts and logs a protocol violation whose connection the caller ends itself (a clean disconnect after the
     * requests in flight); {@code reason} is the short tag for metrics.
     */
    void protocolViolation(String reason, String detail) {
        if (!closeReported) {
            closeReported = true;
            LOG.info("{}: disconnecting: {}", remote, detail);
            observer.protocolError(reason);
        }
    }

    /** Closes for a protocol violation or an exceeded limit; {@code reason} is the short tag for metrics. */
    void protocolError(String reason, String detail) {
        if (!closeReported) {
            closeReported = true;
            LOG.info("{}: closing connection: {}", remote, detail);
            observer.protocolError(reason);
        }
        channel.close();
    }

    /**
     * The one place a handler's exception ends up. Malformed input closes this connection only; a broken socket is
     * routine; anything else is a bug, logged loudly, and still only costs this connection.
     */
    void failed(Throwable cause) {
        if (cause instanceof DecoderException) {
            Throwable root = cause.getCause() != null ? cause.getCause() : cause;
            protocolError("malformed-input", "malformed input: " + root.getMessage());
        } else if (cause instanceof IOException) {
            LOG.debug("{}: connection error: {}", remote, cause.toString());
            channel.close();
        } else {
            LOG.warn("{}: unexpected error, closing the connection", remote, cause);
            channel.close();
        }
    }

    /** Called once when the channel has closed. */
    void closed() {
        if (attachedExport != null) {
            observer.clientDetached(attachedExport);
        }
        observer.connectionClosed();
        LOG.debug("{}: connection closed", remote);
    }
}
