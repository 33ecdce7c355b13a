package io.mpathnbd.server;

import io.mpathnbd.core.backend.BackendContext;
import io.mpathnbd.core.backend.BackendSession;
import io.mpathnbd.core.backend.ControlResult;
import io.mpathnbd.core.backend.DriverOptions;
import io.mpathnbd.core.backend.Drivers;
import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.backend.ReservationOps;
import io.mpathnbd.core.backend.TransportOptions;
import io.mpathnbd.core.support.BackendCalls;
import io.mpathnbd.core.support.BackendOutcome;
import io.mpathnbd.iscsi.backend.IscsiOptions;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A second host on the same LUN, independent of the gateway under test: its own event loop, iSCSI initiator name and
 * session (so its own I_T nexus). Debian's tools have no PR initiator without a kernel SCSI device, so it is the
 * project's initiator code under another name, as the reference page says.
 */
public final class OtherInitiator implements AutoCloseable {
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final BackendSession session;

    public OtherInitiator(String uri, String initiatorName) {
        Drivers drivers = new Drivers(new BackendContext(group, false));
        DriverOptions o = DriverOptions.defaults().withTransport(
                TransportOptions.of(Map.of(IscsiOptions.INITIATOR_NAME, initiatorName)));
        try {
            session = get(drivers.create(uri, o).connect());
        } catch (RuntimeException | Error e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    public ReservationOps pr() {
        return session.reservations();
    }

    public List<Long> keys() {
        return ok(pr().readKeys()).keys();
    }

    public ReservationOps.Holder holder() {
        return ok(pr().readReservation()).holder();
    }

    /** Writes one block at {@code offset}; the outcome, success or the disk's refusal. */
    public BackendOutcome write(long offset) {
        return BackendCalls.write(session, 0, offset, new byte[512], WAIT);
    }

    /** A write that must be refused: its failure. */
    public Failure writeRefused(long offset) {
        return write(offset).assertFailed();
    }

    public static <T> T ok(CompletableFuture<ControlResult<T>> f) {
        ControlResult<T> r = get(f);
        if (!r.succeeded()) {
            throw new AssertionError("the other initiator's command failed: " + r);
        }
        return r.value();
    }

    private static <T> T get(CompletableFuture<T> f) {
        try {
            return f.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Override
    public void close() {
        try {
            get(session.close());
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
