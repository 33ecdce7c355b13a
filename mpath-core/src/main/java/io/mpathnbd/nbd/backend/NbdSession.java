package io.mpathnbd.nbd.backend;

import io.mpathnbd.core.backend.BackendCallback;
import io.mpathnbd.core.backend.BackendException;
import io.mpathnbd.core.backend.BackendInfo;
import io.mpathnbd.core.backend.BackendSession;
import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.request.Extents;
import io.netty.buffer.ByteBuf;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An NBD session: one connection, or several when the server allows it (CAN_MULTI_CONN), spread evenly over the
 * event loops; a request goes to the least busy connection on the caller's loop.
 * It lives and dies as one unit, because the core reconnects a path as a whole: when any connection is lost, all are
 * closed and their requests fail as PATH errors; when a request goes unanswered too long, every request in flight
 * fails as TIMEOUT (all of them are in doubt) and the session closes.
 */
final class NbdSession implements BackendSession, NbdConnection.Owner {
    private static final Logger LOG = LoggerFactory.getLogger(NbdSession.class);

    private final String display;
    private final BackendInfo info;
    private final NbdConnection[] connections;
    private final Duration requestTimeout;
    private final AtomicBoolean ended = new AtomicBoolean();
    private final AtomicInteger roundRobin = new AtomicInteger();
    private final CompletableFuture<Void> channelsClosed = new CompletableFuture<>();
    private final CompletableFuture<Void> closeFuture = new CompletableFuture<>();
    private volatile String lossReason;

    NbdSession(String display, BackendInfo info, List<NbdConnection> connections, Duration requestTimeout) {
        this.display = display;
        this.info = info;
        this.connections = connections.toArray(NbdConnection[]::new);
        this.requestTimeout = requestTimeout;
        AtomicInteger open = new AtomicInteger(this.connections.length);
        for (NbdConnection c : this.connections) {
            c.channel().closeFuture().addListener(f -> {
                if (open.decrementAndGet() == 0) {
                    channelsClosed.complete(null);
                }
            });
        }
        for (NbdConnection c : this.connections) {
            c.attach(this);
        }
    }

    @Override
    public BackendInfo info() {
        return info;
    }

    int connectionCount() {
        return connections.length;
    }

    NbdConnection connection(int index) {
        return connections[index];
    }

    /** Requests in flight per connection (for tests and diagnostics; racy snapshot). */
    int[] inFlightPerConnection() {
        int[] n = new int[connections.length];
        for (int i = 0; i < n.length; i++) {
            n[i] = connections[i].inFlight();
        }
        return n;
    }

    @Override
    public void submit(BlockRequest request, BackendCallback callback) {
        NbdConnection[] cs = connections;
        if (cs.length == 1) {
            cs[0].submit(request, callback);
            return;
        }
        // a connection on the caller's own event loop needs no thread hop; of several there, the least busy (their
        // in-flight counts belong to this thread, so they are exact)
        NbdConnection local = null;
        for (NbdConnection c : cs) {
            if (c.eventLoop().inEventLoop() && (local == null || c.inFlight() < local.inFlight())) {
                local = c;
            }
        }
        if (local != null) {
            local.submit(request, callback);
            return;
        }
        cs[(roundRobin.getAndIncrement() & Integer.MAX_VALUE) % cs.length].submit(request, callback);
    }

    @Override
    public CompletableFuture<Void> probe() {
        CompletableFuture<Void> result = new CompletableFuture<>();
        int min = info.minBlockSize();
        long length = Math.min(4096, info.size());
        length -= length % min;
        if (length == 0) {
            // nothing to read on an empty disk: the session being open is all there is to check
            if (ended.get()) {
                result.completeExceptionally(new BackendException(display + ": probe on a closed session"));
            } else {
                result.complete(null);
            }
            return result;
        }
        submit(new BlockRequest(BlockOp.READ, 0, 0, (int) length, 0, null, null), new BackendCallback() {
            @Override
            public void succeeded(ByteBuf data, Extents extents) {
                if (data != null) {
                    data.release();
                }
                result.complete(null);
            }

            @Override
            public void failed(Failure failure) {
                result.completeExceptionally(new BackendException(display + ": probe failed: " + failure.message()));
            }
        });
        return result.orTimeout(requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public CompletableFuture<Void> close() {
        end(null, Failure.path(display + ": session closed"), "session closed");
        return closeFuture.thenApply(v -> null);
    }

    @Override
    public CompletableFuture<Void> closeFuture() {
        return closeFuture;
    }

    @Override
    public String lossReason() {
        return lossReason;
    }

    @Override
    public void connectionLost(NbdConnection connection, String reason) {
        end(reason, Failure.path(display + ": session lost: " + reason), "session lost: " + reason);
    }

    @Override
    public void connectionHung(NbdConnection connection, String reason) {
        String why = "timeout: " + reason;
        end(why, Failure.timeout(display + ": " + why), "session lost: " + why);
    }

    /**
     * Ends the session once: every connection fails its requests with {@code failure} and closes with a reset; the
     * close future completes when every socket is closed.
     */
    private void end(String lostBecause, Failure failure, String afterwards) {
        if (!ended.compareAndSet(false, true)) {
            return;
        }
        if (lostBecause != null) {
            lossReason = lostBecause;
            LOG.warn("{}: session lost: {}", display, lostBecause);
        } else {
            LOG.info("{}: closing session", display);
        }
        for (NbdConnection c : connections) {
            c.abort(failure, afterwards);
        }
        channelsClosed.whenComplete((v, e) -> closeFuture.complete(null));
    }

    @Override
    public String toString() {
        return "NbdSession[" + display + ", " + connections.length + " connection(s)"
                + (lossReason != null ? ", lost: " + lossReason : ended.get() ? ", closed" : "") + "]";
    }
}
