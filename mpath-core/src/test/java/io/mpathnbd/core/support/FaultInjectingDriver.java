package io.mpathnbd.core.support;

import io.mpathnbd.core.backend.BackendCallback;
import io.mpathnbd.core.backend.BackendDriver;
import io.mpathnbd.core.backend.BackendException;
import io.mpathnbd.core.backend.BackendInfo;
import io.mpathnbd.core.backend.BackendSession;
import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.backend.FailureKind;
import io.mpathnbd.core.backend.ZoneOps;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.core.request.Extents;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;

/**
 * A fake, because unit tests need deterministic path failures; failures against real peers are tested in the
 * integration suite.
 *
 * <p>Wraps a real driver (the file backend): requests it lets through are served by the real session; the others
 * are failed as PATH/TIMEOUT/TARGET/RETRY_SAME_PATH or hung until the session is closed or timed out. It can also
 * refuse connects, alter what a session reports (size, identity, capabilities), drop sessions, slow down their close
 * and fail probes. Failures are delivered from a separate thread, as a real backend's connection thread would.
 */
public final class FaultInjectingDriver implements BackendDriver {
    /**
     * What to do with a request instead of serving it. LANDED_THEN_PATH serves it, then loses the answer (a
     * connection cut after the disk took the write); HALF_THEN_PATH serves the first half of a WRITE's blocks
     * (512 bytes each), then loses the answer (a write the disk took in part).
     */
    public enum Action { PATH, TIMEOUT, TARGET, RETRY_SAME_PATH, HANG, LANDED_THEN_PATH, HALF_THEN_PATH }

    private static final ExecutorService CALLBACKS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "fake-backend");
        t.setDaemon(true);
        return t;
    });
    private static final ScheduledExecutorService TIMERS = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "fake-backend-timer");
        t.setDaemon(true);
        return t;
    });

    private record Rule(BlockOp op, Action action, int errno) {
        boolean matches(BlockOp o) {
            return op == null || op == o;
        }
    }

    /** A request the real session served: which operation and when it was handed over. */
    public record Served(BlockOp op, long offset, long nanos) {
    }

    private final BackendDriver real;
    private final ConcurrentLinkedQueue<Rule> oneShot = new ConcurrentLinkedQueue<>();
    private volatile Rule always;
    private volatile BackendException connectFailure;
    private volatile UnaryOperator<BackendInfo> infoChange = UnaryOperator.identity();
    private volatile long closeDelayMillis;
    private volatile long connectDelayMillis;
    private volatile boolean failProbes;
    private final List<FaultySession> sessions = new CopyOnWriteArrayList<>();
    private final ConcurrentLinkedQueue<Served> served = new ConcurrentLinkedQueue<>();
    private volatile boolean shutdown;

    public FaultInjectingDriver(BackendDriver real) {
        this.real = real;
    }

    // ------------------------------------------------------------------ controls

    /** The next request of {@code op} (null: any) gets {@code action}. Rules queue up in order. */
    public FaultInjectingDriver failNext(BlockOp op, Action action) {
        return failNext(op, action, Errno.EIO);
    }

    public FaultInjectingDriver failNext(BlockOp op, Action action, int errno) {
        oneShot.add(new Rule(op, action, errno));
        return this;
    }

    /** Every request of {@code op} (null: any) gets {@code action} until {@link #heal()}. */
    public FaultInjectingDriver failAlways(BlockOp op, Action action) {
        always = new Rule(op, action, Errno.EIO);
        return this;
    }

    /** Clears all request rules and connect failures. */
    public FaultInjectingDriver heal() {
        oneShot.clear();
        always = null;
        connectFailure = null;
        failProbes = false;
        return this;
    }

    public FaultInjectingDriver refuseConnects(BackendException e) {
        connectFailure = e;
        return this;
    }

    public FaultInjectingDriver changeInfo(UnaryOperator<BackendInfo> change) {
        infoChange = change;
        return this;
    }

    public FaultInjectingDriver connectDelay(long millis) {
        connectDelayMillis = millis;
        return this;
    }

    public FaultInjectingDriver closeDelay(long millis) {
        closeDelayMillis = millis;
        return this;
    }

    public FaultInjectingDriver failProbes(boolean fail) {
        failProbes = fail;
        return this;
    }

    /** Loses the current session as a dropped connection would. */
    public void dropSession(String reason) {
        FaultySession s = current();
        if (s != null) {
            s.lose(reason);
        }
    }

    /** Fails every hung request with TIMEOUT and closes the session, as a backend's request timeout does. */
    public void timeoutHung() {
        FaultySession s = current();
        if (s != null) {
            s.timeOutHung();
        }
    }

    // ------------------------------------------------------------------ observations

    public FaultySession current() {
        return sessions.isEmpty() ? null : sessions.get(sessions.size() - 1);
    }

    public List<FaultySession> sessions() {
        return new ArrayList<>(sessions);
    }

    public List<Served> served() {
        return new ArrayList<>(served);
    }

    public long servedCount(BlockOp op) {
        return served.stream().filter(s -> s.op() == op).count();
    }

    public int hungCount() {
        FaultySession s = current();
        return s == null ? 0 : s.hung.size();
    }

    public boolean isShutdown() {
        return shutdown;
    }

    // ------------------------------------------------------------------ driver

    @Override
    public String displayUri() {
        return "fault+" + real.displayUri();
    }

    @Override
    public CompletableFuture<BackendSession> connect() {
        BackendException refuse = connectFailure;
        if (refuse != null) {
            return CompletableFuture.failedFuture(refuse);
        }
        long delay = connectDelayMillis;
        CompletableFuture<BackendSession> opened = delay <= 0 ? real.connect()
                : CompletableFuture.supplyAsync(() -> null,
                        CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS)).thenCompose(v -> real.connect());
        return opened.thenApply(s -> {
            FaultySession f = new FaultySession(s, infoChange.apply(s.info()));
            sessions.add(f);
            return f;
        });
    }

    @Override
    public void shutdown() {
        shutdown = true;
        real.shutdown();
    }

    private Rule nextRule(BlockOp op) {
        for (Rule r : oneShot) {
            if (r.matches(op) && oneShot.remove(r)) {
                return r;
            }
        }
        Rule a = always;
        return a != null && a.matches(op) ? a : null;
    }

    /** A real session with faults on top. */
    public final class FaultySession implements BackendSession {
        private final BackendSession inner;
        private final BackendInfo info;
        private final ConcurrentLinkedQueue<Object[]> hung = new ConcurrentLinkedQueue<>();
        private final CompletableFuture<Void> closed = new CompletableFuture<>();
        private final AtomicBoolean closing = new AtomicBoolean();
        private volatile String lossReason;
        private volatile long closedNanos;

        FaultySession(BackendSession inner, BackendInfo info) {
            this.inner = inner;
            this.info = info;
        }

        @Override
        public BackendInfo info() {
            return info;
        }

        @Override
        public void submit(BlockRequest request, BackendCallback callback) {
            if (closing.get()) {
                CALLBACKS.execute(() -> callback.failed(Failure.path("fake session closed")));
                return;
            }
            Rule rule = nextRule(request.op());
            if (rule == null) {
                served.add(new Served(request.op(), request.offset(), System.nanoTime()));
                inner.submit(request, callback);
                return;
            }
            switch (rule.action()) {
                case HANG:
                    hung.add(new Object[] {request, callback});
                    if (closing.get()) {
                        failHung(FailureKind.PATH, "fake session closed");
                    }
                    return;
                case PATH:
                    deliver(callback, Failure.path("injected path failure"));
                    return;
                case LANDED_THEN_PATH:
                    served.add(new Served(request.op(), request.offset(), System.nanoTime()));
                    inner.submit(request, lostAnswer(callback));
                    return;
                case HALF_THEN_PATH:
                    int half = request.length() / 2 / 512 * 512;
                    ByteBuf p = request.payload();
                    BlockRequest part = new BlockRequest(request.op(), request.flags(), request.offset(), half,
                            request.cookie(), p == null ? null : p.retainedSlice(p.readerIndex(), half), null);
                    served.add(new Served(request.op(), request.offset(), System.nanoTime()));
                    inner.submit(part, lostAnswer(new BackendCallback() {
                        @Override
                        public void succeeded(ByteBuf data, Extents extents) {
                            part.releasePayload();
                            callback.succeeded(data, extents);
                        }

                        @Override
                        public void failed(Failure failure) {
                            part.releasePayload();
                            callback.failed(failure);
                        }
                    }));
                    return;
                case TIMEOUT:
                    deliver(callback, Failure.timeout("injected timeout"));
                    return;
                case TARGET:
                    deliver(callback, Failure.target(rule.errno(), "injected target error " + rule.errno()));
                    return;
                case RETRY_SAME_PATH:
                default:
                    deliver(callback, Failure.retrySamePath("injected busy"));
            }
        }

        /** Passes the real answer's end on as a path failure: the disk acted, the answer was lost. */
        private BackendCallback lostAnswer(BackendCallback callback) {
            return new BackendCallback() {
                @Override
                public void succeeded(ByteBuf data, Extents extents) {
                    if (data != null) {
                        data.release();
                    }
                    lose("injected: answer lost after the request was served");
                    callback.failed(Failure.path("injected: answer lost after the request was served"));
                }

                @Override
                public void failed(Failure failure) {
                    callback.failed(failure);
                }
            };
        }

        private void deliver(BackendCallback callback, Failure failure) {
            CALLBACKS.execute(() -> callback.failed(failure));
        }

        private void failHung(FailureKind kind, String message) {
            for (Object[] h; (h = hung.poll()) != null;) {
                BackendCallback cb = (BackendCallback) h[1];
                Failure f = new Failure(kind, Errno.EIO, message);
                CALLBACKS.execute(() -> cb.failed(f));
            }
        }

        void timeOutHung() {
            failHung(FailureKind.TIMEOUT, "injected request timeout");
            close();
        }

        void lose(String reason) {
            lossReason = reason;
            close();
        }

        /** The real session's zone commands, without faults: a lost session's fail as the real one's do. */
        @Override
        public ZoneOps zones() {
            return inner.zones();
        }

        @Override
        public CompletableFuture<Void> probe() {
            if (failProbes) {
                return CompletableFuture.failedFuture(new IllegalStateException("injected probe failure"));
            }
            return inner.probe();
        }

        @Override
        public CompletableFuture<Void> close() {
            if (closing.compareAndSet(false, true)) {
                failHung(FailureKind.PATH, "fake session closed");
                long delay = closeDelayMillis;
                inner.close().whenComplete((v, e) -> TIMERS.schedule(() -> {
                    closedNanos = System.nanoTime();
                    closed.complete(null);
                }, delay, TimeUnit.MILLISECONDS));
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

        /** When close completed (System.nanoTime), or 0. */
        public long closedNanos() {
            return closedNanos;
        }

        public boolean isClosed() {
            return closed.isDone();
        }
    }
}
