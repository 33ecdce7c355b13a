package io.mpathnbd.nbd.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.mpathnbd.core.backend.BackendContext;
import io.mpathnbd.core.backend.BackendDriver;
import io.mpathnbd.core.backend.BackendException;
import io.mpathnbd.core.backend.BackendSession;
import io.mpathnbd.core.backend.DriverOptions;
import io.mpathnbd.core.backend.Drivers;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.support.BackendCalls;
import io.mpathnbd.core.support.BackendCalls.Recorder;
import io.mpathnbd.core.support.BackendOutcome;
import io.netty.buffer.ByteBuf;
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

    BackendDriver driver(String uri, DriverOptions options) {
        BackendDriver d = drivers.create(uri, options);
        assertEquals(NbdDriver.class, d.getClass(), "the nbd scheme must be served by the NBD driver");
        return d;
    }

    NbdSession connect(String uri) {
        return connect(uri, DriverOptions.defaults());
    }

    NbdSession connect(String uri, DriverOptions options) {
        return connect(driver(uri, options));
    }

    /** A session of {@code driver}, closed with the harness. */
    NbdSession connect(BackendDriver driver) {
        BackendSession s = get(driver.connect());
        sessions.add(s);
        return (NbdSession) s;
    }

    /** Connects expecting failure; returns the BackendException. */
    BackendException connectFails(String uri, DriverOptions options) {
        return connectFails(driver(uri, options));
    }

    BackendException connectFails(BackendDriver driver) {
        CompletableFuture<BackendSession> f = driver.connect();
        try {
            BackendSession s = f.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            sessions.add(s);
            return fail("connected to " + driver.displayUri() + ", a failure was expected");
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
        return BackendCalls.submit(s, op, flags, offset, length, payload, WAIT);
    }

    static BackendOutcome run(BackendSession s, BlockOp op, int flags, long offset, int length) {
        return BackendCalls.run(s, op, flags, offset, length, WAIT);
    }

    static BackendOutcome write(BackendSession s, int flags, long offset, byte[] data) {
        return BackendCalls.write(s, flags, offset, data, WAIT);
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
