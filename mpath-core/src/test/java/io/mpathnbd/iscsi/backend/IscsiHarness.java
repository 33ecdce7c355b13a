package io.mpathnbd.iscsi.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import io.netty.channel.nio.NioIoHandler;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** Event loops, the real driver registry, and synchronous one-request helpers for the iSCSI driver tests. */
final class IscsiHarness implements AutoCloseable {
    final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    final Drivers drivers = new Drivers(new BackendContext(group, false));
    private final List<BackendSession> sessions = new ArrayList<>();

    record Outcome(boolean ok, ByteBuf data, Failure failure) {
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

        byte[] bytes() {
            assertOk();
            try {
                return ByteBufUtil.getBytes(data);
            } finally {
                data.release();
            }
        }
    }

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
            BackendSession s = f.get(30, TimeUnit.SECONDS);
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

    static Outcome run(BackendSession s, BlockOp op, int flags, long offset, int length) {
        return submit(s, op, flags, offset, length, null).join();
    }

    static Outcome write(BackendSession s, int flags, long offset, byte[] data) {
        ByteBuf p = PooledByteBufAllocator.DEFAULT.directBuffer(data.length).writeBytes(data);
        try {
            return submit(s, BlockOp.WRITE, flags, offset, data.length, p).join();
        } finally {
            assertEquals(1, p.refCnt(), "the backend gave back every payload reference it took");
            p.release();
        }
    }

    static CompletableFuture<Outcome> submit(BackendSession s, BlockOp op, int flags, long offset, int length,
            ByteBuf payload) {
        CompletableFuture<Outcome> f = new CompletableFuture<>();
        s.submit(new BlockRequest(op, flags, offset, length, 1, payload, null), new BackendCallback() {
            @Override
            public void succeeded(ByteBuf data, Extents extents) {
                if (!f.complete(new Outcome(true, data, null))) {
                    throw new AssertionError("callback called twice");
                }
            }

            @Override
            public void failed(Failure failure) {
                if (!f.complete(new Outcome(false, null, failure))) {
                    throw new AssertionError("callback called twice");
                }
            }
        });
        return f.orTimeout(30, TimeUnit.SECONDS);
    }

    static <T> T get(CompletableFuture<T> f) {
        try {
            return f.get(30, TimeUnit.SECONDS);
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
