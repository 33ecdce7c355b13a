package io.mpathnbd.server.tls;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.UnsupportedMessageTypeException;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import org.bouncycastle.tls.TlsServerProtocol;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Server-side TLS-PSK for one connection, over Bouncy Castle's non-blocking {@link TlsServerProtocol}: inbound
 * ciphertext is decrypted and passed on as {@link ByteBuf}s, outbound {@code ByteBuf} writes are encrypted, and
 * {@link io.netty.channel.Channel#close} sends close_notify first.
 *
 * <p>It behaves towards the rest of the pipeline as Netty's {@code SslHandler} does: it fires
 * {@link SslHandshakeCompletionEvent#SUCCESS} or {@code new SslHandshakeCompletionEvent(cause)} (an
 * {@link SSLException}) and completes {@link #handshakeFuture()}; writes made before the handshake completes wait
 * for it; a handshake that has not completed within the timeout closes the connection with an
 * {@link SslHandshakeTimeoutException}. Garbage instead of a ClientHello, an unknown username or a wrong key close
 * the connection after the TLS alert; the reason is logged, never a key.
 *
 * <p>After the handshake, the authenticated username is {@link #identity()} and the channel attribute
 * {@link #PSK_IDENTITY}, for access lists. Made by {@link PskTls#newHandler}, one per connection.
 */
public final class PskTlsHandler extends ChannelDuplexHandler {
    /** The username that authenticated the connection, set when the handshake completes. */
    public static final AttributeKey<String> PSK_IDENTITY = AttributeKey.valueOf(PskTlsHandler.class,
            "pskIdentity");

    private static final Logger LOG = LoggerFactory.getLogger(PskTlsHandler.class);
    private static final long CLOSE_NOTIFY_FLUSH_MILLIS = 3_000;

    private final PskServer server;
    private final TlsServerProtocol protocol = new TlsServerProtocol();
    private final long handshakeTimeoutMillis;
    private final ArrayDeque<PendingWrite> pending = new ArrayDeque<>();

    private ChannelHandlerContext ctx;
    private Promise<String> handshake;
    private ScheduledFuture<?> handshakeTimer;
    private byte[] scratch = new byte[0];
    private boolean started;
    private boolean handshakeDone;
    private boolean failed;
    private boolean closing;
    private boolean flushPending;
    private boolean readProduced;

    PskTlsHandler(PskServer server, long handshakeTimeoutMillis) {
        this.server = server;
        this.handshakeTimeoutMillis = handshakeTimeoutMillis;
    }

    /** Completes with the authenticated username, or fails with the handshake's {@link SSLException}. */
    public Future<String> handshakeFuture() {
        return handshake;
    }

    /** The username that authenticated; null until the handshake has completed. */
    public String identity() {
        return server.identity();
    }

    /** The negotiated protocol, "TLSv1.3" or "TLSv1.2" (as JSSE names them); null until the handshake completes. */
    public String protocolVersion() {
        return server.protocolVersion();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        this.handshake = ctx.executor().newPromise();
        protocol.accept(server);
        if (ctx.channel().isActive()) {
            startHandshake();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        startHandshake();
        ctx.fireChannelActive();
    }

    private void startHandshake() {
        if (started || handshakeDone || failed) {
            return;
        }
        started = true;
        if (handshakeTimeoutMillis > 0) {
            handshakeTimer = ctx.executor().schedule(() -> {
                if (!handshakeDone && !failed) {
                    fail(new SslHandshakeTimeoutException("TLS-PSK handshake timed out after "
                            + handshakeTimeoutMillis + " ms"));
                }
            }, handshakeTimeoutMillis, TimeUnit.MILLISECONDS);
        }
        if (!ctx.channel().config().isAutoRead()) {
            ctx.read();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            if (failed || protocol.isClosed()) {
                return;
            }
            int length = in.readableBytes();
            try {
                if (in.hasArray()) {
                    protocol.offerInput(in.array(), in.arrayOffset() + in.readerIndex(), length);
                } else {
                    if (scratch.length < length) {
                        scratch = new byte[Math.max(length, 16 * 1024)];
                    }
                    in.getBytes(in.readerIndex(), scratch, 0, length);
                    protocol.offerInput(scratch, 0, length);
                }
            } catch (IOException e) {
                fail(e);
                return;
            }
        } finally {
            in.release();
        }
        afterInput();
    }

    private void afterInput() {
        writeProtocolOutput(true);
        if (!handshakeDone && server.handshakeComplete()) {
            handshakeDone = true;
            if (handshakeTimer != null) {
                handshakeTimer.cancel(false);
            }
            String identity = server.identity();
            ctx.channel().attr(PSK_IDENTITY).set(identity);
            LOG.debug("TLS-PSK handshake with {} completed: user {}, {}, cipher suite {}",
                    ctx.channel().remoteAddress(), PskServer.printable(identity), server.protocolVersion(),
                    server.cipherSuite());
            handshake.trySuccess(identity);
            ctx.fireUserEventTriggered(SslHandshakeCompletionEvent.SUCCESS);
            writePending();
        }
        int available = protocol.getAvailableInputBytes();
        if (available > 0 && !failed) {
            ByteBuf plain = ctx.alloc().buffer(available);
            int read = protocol.readInput(plain.internalNioBuffer(0, available), available);
            plain.writerIndex(read);
            readProduced = true;
            ctx.fireChannelRead(plain);
        }
        if (protocol.isClosed() && !failed && ctx.channel().isActive()) {
            // the client's close_notify: Bouncy Castle has queued ours in answer
            closing = true;
            failPending(new ClosedChannelException());
            writeProtocolOutput(true).addListener(f -> ctx.close());
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        boolean produced = readProduced;
        readProduced = false;
        if (handshakeDone) {
            ctx.fireChannelReadComplete();
        }
        if (!produced && !ctx.channel().config().isAutoRead()) {
            ctx.read();
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof ByteBuf buf)) {
            ReferenceCountUtil.release(msg);
            promise.setFailure(new UnsupportedMessageTypeException(msg, ByteBuf.class));
            return;
        }
        if (failed || closing || protocol.isClosed()) {
            buf.release();
            promise.setFailure(new ClosedChannelException());
        } else if (!handshakeDone) {
            pending.add(new PendingWrite(buf, promise));
        } else {
            encrypt(buf, promise);
        }
    }

    private void encrypt(ByteBuf buf, ChannelPromise promise) {
        try {
            int length = buf.readableBytes();
            if (length == 0) {
                ctx.write(Unpooled.EMPTY_BUFFER, promise);
                return;
            }
            if (buf.hasArray()) {
                protocol.writeApplicationData(buf.array(), buf.arrayOffset() + buf.readerIndex(), length);
            } else {
                if (scratch.length < length) {
                    scratch = new byte[Math.max(length, 16 * 1024)];
                }
                buf.getBytes(buf.readerIndex(), scratch, 0, length);
                protocol.writeApplicationData(scratch, 0, length);
            }
        } catch (IOException e) {
            promise.tryFailure(e);
            fail(e);
            return;
        } finally {
            buf.release();
        }
        ByteBuf out = protocolOutput();
        ctx.write(out == null ? Unpooled.EMPTY_BUFFER : out, promise);
    }

    private void writePending() {
        PendingWrite write;
        while ((write = pending.poll()) != null) {
            encrypt(write.buf, write.promise);
        }
        if (flushPending) {
            flushPending = false;
            ctx.flush();
        }
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        if (handshakeDone) {
            ctx.flush();
        } else {
            flushPending = true;
        }
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        failPending(new ClosedChannelException());
        if (!handshakeDone || failed || closing || protocol.isClosed()) {
            ctx.close(promise);
            return;
        }
        closing = true;
        try {
            protocol.close();
        } catch (IOException e) {
            LOG.debug("TLS-PSK close_notify to {} failed: {}", ctx.channel().remoteAddress(), e.toString());
        }
        ChannelFuture written = writeProtocolOutput(true);
        // close once the close_notify is out, or after a while if the peer does not read
        boolean[] closed = {false};
        Runnable closeOnce = () -> {
            if (!closed[0]) {
                closed[0] = true;
                ctx.close(promise);
            }
        };
        ScheduledFuture<?> force = ctx.executor().schedule(closeOnce, CLOSE_NOTIFY_FLUSH_MILLIS,
                TimeUnit.MILLISECONDS);
        written.addListener(f -> {
            force.cancel(false);
            closeOnce.run();
        });
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (handshakeTimer != null) {
            handshakeTimer.cancel(false);
        }
        failPending(new ClosedChannelException());
        if (!handshakeDone && !failed) {
            failed = true;
            SSLHandshakeException cause = new SSLHandshakeException(
                    "connection closed during the TLS-PSK handshake");
            cause.initCause(new ClosedChannelException());
            LOG.info("TLS-PSK handshake with {} failed: {}", ctx.channel().remoteAddress(), cause.getMessage());
            handshake.tryFailure(cause);
            ctx.fireUserEventTriggered(new SslHandshakeCompletionEvent(cause));
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (handshakeTimer != null) {
            handshakeTimer.cancel(false);
        }
        failPending(new ClosedChannelException());
    }

    /** Fails the connection: the alert Bouncy Castle queued goes out, then the channel closes. */
    private void fail(Throwable cause) {
        if (failed) {
            return;
        }
        failed = true;
        if (handshakeTimer != null) {
            handshakeTimer.cancel(false);
        }
        String reason = server.failure() != null ? server.failure() : String.valueOf(cause.getMessage());
        SSLException error = cause instanceof SSLException ssl ? ssl : handshakeDone
                ? new SSLException("TLS-PSK: " + reason, cause) : new SSLHandshakeException("TLS-PSK: " + reason);
        if (error != cause && error.getCause() == null) {
            error.initCause(cause);
        }
        failPending(error);
        ChannelFuture alert = writeProtocolOutput(true);
        if (!handshakeDone) {
            LOG.info("TLS-PSK handshake with {} failed: {}", ctx.channel().remoteAddress(), reason);
            handshake.tryFailure(error);
            ctx.fireUserEventTriggered(new SslHandshakeCompletionEvent(error));
        } else {
            LOG.info("TLS-PSK connection with {} failed: {}", ctx.channel().remoteAddress(), reason);
            ctx.fireExceptionCaught(error);
        }
        alert.addListener(f -> ctx.close());
    }

    /** Writes (and with {@code flush}, flushes) what the protocol has to send; an empty write if nothing. */
    private ChannelFuture writeProtocolOutput(boolean flush) {
        ByteBuf out = protocolOutput();
        ChannelFuture written = ctx.write(out == null ? Unpooled.EMPTY_BUFFER : out);
        if (flush) {
            ctx.flush();
        }
        return written;
    }

    private ByteBuf protocolOutput() {
        int available = protocol.getAvailableOutputBytes();
        if (available == 0) {
            return null;
        }
        ByteBuf out = ctx.alloc().buffer(available);
        int read = protocol.readOutput(out.internalNioBuffer(0, available), available);
        out.writerIndex(read);
        return out;
    }

    private void failPending(Throwable cause) {
        PendingWrite write;
        while ((write = pending.poll()) != null) {
            write.buf.release();
            write.promise.tryFailure(cause);
        }
    }

    private record PendingWrite(ByteBuf buf, ChannelPromise promise) {
    }
}
