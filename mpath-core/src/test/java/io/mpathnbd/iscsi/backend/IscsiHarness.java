package io.mpathnbd.iscsi.backend;

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
import io.mpathnbd.core.support.BackendOutcome;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** Event loops, the real driver registry, and synchronous one-request helpers for the iSCSI driver tests. */
final class IscsiHarness implements AutoCloseable {
    static final Duration WAIT = Duration.ofSeconds(30);

    final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    final Drivers drivers = new Drivers(new BackendContext(group, false));
    private final List<BackendSession> sessions = new ArrayList<>();

    BackendDriver driver(String uri, DriverOptions options) {
        BackendDriver d = drivers.create(uri, options);
        assertEquals(IscsiDriver.class, d.getClass(), "iscsi:// must be served by the iSCSI driver");
        return d;
    }

    IscsiBackendSession connect(BackendDriver d) {
        BackendSession s = get(d.connect());
        sessions.add(s);
        return (IscsiBackendSession) s;
    }

    BackendException connectFails(BackendDriver d) {
        CompletableFuture<BackendSession> f = d.connect();
        try {
            BackendSession s = f.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            sessions.add(s);
            return fail("connected, a failure was expected");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof BackendException) {
                return (BackendException) e.getCause();
            }
            throw new AssertionError("unexpected failure type", e.getCause());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static BackendOutcome run(BackendSession s, BlockOp op, int flags, long offset, int length) {
        return BackendCalls.run(s, op, flags, offset, length, WAIT);
    }

    static BackendOutcome write(BackendSession s, int flags, long offset, byte[] data) {
        return BackendCalls.write(s, flags, offset, data, WAIT);
    }

    static <T> T get(CompletableFuture<T> f) {
        try {
            return f.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Override
    public void close() {
        for (BackendSession s : sessions) {
            try {
                s.close().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                // reported by the test that broke it
            }
        }
        group.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS).syncUninterruptibly();
    }
}
