package io.mpathnbd.nbd.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import io.mpathnbd.core.backend.BackendCallback;
import io.mpathnbd.core.backend.BackendContext;
import io.mpathnbd.core.backend.BackendDriver;
import io.mpathnbd.core.backend.BackendException;
import io.mpathnbd.core.backend.BackendSession;
import io.mpathnbd.core.backend.DriverOptions;
import io.mpathnbd.core.backend.Drivers;
import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.request.Extents;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What the NBD backend tests share: an event loop group (NIO or epoll, 4 loops) with a {@link Drivers} registry, sessions
 * opened through the real service registration, and synchronous helpers to submit one request and see its outcome.
 * Closes every session it opened and shuts the group down.
 */
final class BackendHarness implements AutoCloseable {
    static final Duration WAIT = Duration.ofSeconds(20);

    final EventLoopGroup group;
    final BackendContext context;
    final Drivers drivers;
    private final List<BackendSession> sessions = new ArrayList<>();

    /** NIO event loops. */
    BackendHarness() {
        this(false);
    }

    /** Native epoll event loops if {@code epoll}; fails (does not skip) when epoll is unavailable. */
    BackendHarness(boolean epoll) {
        if (epoll) {
            Epoll.ensureAvailability();
        }
        group = new MultiThreadIoEventLoopGroup(4, epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        context = new BackendContext(group, epoll);
        drivers = new Drivers(context);
    }

    /** The outcome of one request: exactly one of data/extents-success or failure. */
    record Outcome(boolean ok, ByteBuf data, Extents extents, Failure failure) {
        Outcome assertOk() {
            if (!ok) {
                fail("request failed: " + failure);
            }
            return this;
        }

        Failure assertFailed() {
            if (ok) {
                if (data != null) {
                    data.release();
                }
                fail("request succeeded, a failure was expected");
            }
            return failure;
        }

        /** The READ data as an array; releases the buffer. */
        byte[] bytes() {
            assertOk();
            assertNotNull(data, "READ without data");
            try {
                return ByteBufUtil.getBytes(data);
            } finally {
                // the one reference the callee owns (slices may share the parent's count, so refCnt can be higher)
                data.release();
            }
        }
    }

    /** A callback that records the outcome in a future. */
    static final class Recorder implements BackendCallback {
        final CompletableFuture<Outcome> outcome = new CompletableFuture<>();

        @Override
        public void succeeded(ByteBuf data, Extents extents) {
            if (!outcome.complete(new Outcome(true, data, extents, null)) && data != null) {
                data.release();
                throw new AssertionError("callback called twice");
            }
        }

        @Override
        public void failed(Failure failure) {
            if (!outcome.complete(new Outcome(false, null, null, failure))) {
                throw new AssertionError("callback called twice");
            }
        }

        Outcome await() {
            return get(outcome);
        }
    }

    BackendDriver driver(String uri, DriverOptions options) {
        BackendDriver d = drivers.create(uri, options);
        assertEquals(NbdDriver.class, d.getClass(), "the nbd scheme must be served by the NBD driver");
        return d;
    }

    NbdSession connect(String uri) {
        return connect(uri, DriverOptions.defaults());
    }

    NbdSession connect(String uri, DriverOptions options) {
        BackendSession s = get(driver(uri, options).connect());
        sessions.add(s);
        return (NbdSession) s;
    }

    /** Connects expecting failure; returns the BackendException. */
    BackendException connectFails(String uri, DriverOptions options) {
        CompletableFuture<BackendSession> f = driver(uri, options).connect();
        try {
            BackendSession s = f.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            sessions.add(s);
            return fail("connected to " + uri + ", a failure was expected");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof BackendException) {
                return (BackendException) e.getCause();
            }
            return fail("connect failed with something other than BackendException", e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            return fail("connect neither succeeded nor failed within " + WAIT, e);
        }
    }

    static Recorder submit(BackendSession s, BlockOp op, int flags, long offset, int length, ByteBuf payload) {
        Recorder r = new Recorder();
        s.submit(new BlockRequest(op, flags, offset, length, 0, payload, null), r);
        return r;
    }

    static Outcome run(BackendSession s, BlockOp op, int flags, long offset, int length) {
        return submit(s, op, flags, offset, length, null).await();
    }

    /** A WRITE of {@code data}; checks the backend left the request's own payload reference alone, then drops it. */
    static Outcome write(BackendSession s, int flags, long offset, byte[] data) {
        ByteBuf payload = PooledByteBufAllocator.DEFAULT.directBuffer(data.length).writeBytes(data);
        try {
            Outcome o = submit(s, BlockOp.WRITE, flags, offset, data.length, payload).await();
            assertEquals(1, payload.refCnt(), "the backend must not consume or keep the request's payload reference");
            assertEquals(data.length, payload.readableBytes(), "the backend must not move the payload's indexes");
            return o;
        } finally {
            payload.release();
        }
    }

    static byte[] read(BackendSession s, long offset, int length) {
        return run(s, BlockOp.READ, 0, offset, length).bytes();
    }

    static <T> T get(CompletableFuture<T> f) {
        try {
            return f.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            return fail("failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            return fail("no answer within " + WAIT, e);
        }
    }

    @Override
    public void close() {
        for (BackendSession s : sessions) {
            try {
                s.close().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new AssertionError("session did not close: " + s, e);
            }
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
