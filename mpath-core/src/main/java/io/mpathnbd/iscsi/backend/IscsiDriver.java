package io.mpathnbd.iscsi.backend;

import io.mpathnbd.core.backend.BackendContext;
import io.mpathnbd.core.backend.BackendDriver;
import io.mpathnbd.core.backend.BackendException;
import io.mpathnbd.core.backend.BackendInfo;
import io.mpathnbd.core.backend.BackendSession;
import io.mpathnbd.core.backend.DriverOptions;
import io.mpathnbd.iscsi.session.IscsiConnection;
import io.mpathnbd.iscsi.session.IscsiSessionConfig;
import io.mpathnbd.iscsi.session.LoginException;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens iSCSI sessions to one logical unit: login, then attach ({@link Attacher}). The driver draws its own random
 * ISID once and keeps it for every reconnect, so each path is its own I_T nexus (tgt gives all portals one TPGT)
 * and a reconnect reinstates the path's old session on the target rather than leaving it behind.
 */
final class IscsiDriver implements BackendDriver {
    private static final Logger LOG = LoggerFactory.getLogger(IscsiDriver.class);

    private final IscsiUri uri;
    private final BackendContext context;
    private final DriverOptions options;
    private final long isid;
    private final String display;
    private final IscsiSessionConfig checked;

    IscsiDriver(IscsiUri uri, BackendContext context, DriverOptions options) {
        this.uri = uri;
        this.context = context;
        this.options = options;
        this.isid = IscsiSessionConfig.randomIsid();
        this.display = uri.display();
        // every setting is checked now, so a wrong one is a start-up error naming the path, not a failing path
        this.checked = IscsiOptions.sessionConfig(uri, InetSocketAddress.createUnresolved(uri.host(), uri.port()),
                options, isid);
    }

    @Override
    public boolean offersReservations() {
        return true;
    }

    @Override
    public String displayUri() {
        return display;
    }

    long isid() {
        return isid;
    }

    @Override
    public CompletableFuture<BackendSession> connect() {
        CompletableFuture<BackendSession> result = new CompletableFuture<>();
        EventLoop loop = (EventLoop) context.eventLoops().next();
        IscsiSessionConfig cfg;
        try {
            cfg = checked.withPortal(new InetSocketAddress(uri.host(), uri.port()));
        } catch (RuntimeException e) {
            result.completeExceptionally(new BackendException(display + ": " + e.getMessage(), e));
            return result;
        }
        if (cfg.portal().isUnresolved()) {
            result.completeExceptionally(new BackendException(display + ": cannot resolve host " + uri.host()));
            return result;
        }
        CompletableFuture<IscsiConnection> login;
        try {
            login = IscsiConnection.login(cfg, loop, context.socketChannel());
        } catch (RuntimeException e) {
            login = CompletableFuture.failedFuture(e);
        }
        login.whenComplete((c, e) -> {
            if (e != null) {
                result.completeExceptionally(loginFailure(unwrap(e)));
                return;
            }
            attach(c, result);
        });
        return result;
    }

    /** Attach within the connect timeout; a unit that does not answer in time is not a usable path. */
    private void attach(IscsiConnection c, CompletableFuture<BackendSession> result) {
        long bound = options.connectTimeout().toNanos();
        ScheduledFuture<?> timer = c.eventLoop().schedule(() -> {
            if (result.completeExceptionally(new BackendException(display + ": the logical unit did not answer the"
                    + " attach commands within " + options.connectTimeout().toMillis() + " ms"))) {
                c.close();
            }
        }, bound, TimeUnit.NANOSECONDS);
        new Attacher(c, uri.lun(), display).attach().whenComplete((a, e) -> {
            timer.cancel(false);
            if (e != null) {
                Throwable cause = unwrap(e);
                c.close();
                result.completeExceptionally(cause instanceof BackendException ? cause
                        : new BackendException(display + ": attach failed: " + cause.getMessage(), cause));
                return;
            }
            String refusal = identityRefusal(a);
            if (refusal != null) {
                c.logout().whenComplete((v, x) -> c.close());
                result.completeExceptionally(new BackendException(refusal, true, null));
                return;
            }
            BackendInfo info = a.toInfo(options.maxPayload());
            IscsiBackendSession s = new IscsiBackendSession(display, c, uri.lun(), a, info, options.requestTimeout());
            if (!result.complete(s)) {
                s.close();
                return;
            }
            LOG.info("connected to {} (isid 0x{}, {}): {}, {} bytes in {}-byte blocks, max payload {}, {}{}",
                    display, Long.toHexString(isid), c.negotiated().headerDigest() || c.negotiated().dataDigest()
                            ? "digests " + (c.negotiated().headerDigest() ? "header" : "")
                            + (c.negotiated().dataDigest() ? " data" : "") : "no digests",
                    a.description(), info.size(), info.minBlockSize(), info.maxPayload(),
                    io.mpathnbd.core.backend.Capability.describe(info.capabilities()),
                    a.alua() == null ? "" : ", ALUA " + a.alua().describe());
        });
    }

    /** Null when the unit is the expected disk (or none is expected), else why the session is refused. */
    private String identityRefusal(Attachment a) {
        String expected = options.expectedIdentity();
        if (expected == null || expected.equals(a.identity())) {
            return null;
        }
        return display + ": the logical unit's identity is " + (a.identity() == null ? "not reported (no VPD 0x83"
                + " designator)" : "'" + a.identity() + "'") + ", expected '" + expected + "' (a different disk?)";
    }

    private Throwable loginFailure(Throwable e) {
        if (e instanceof LoginException) {
            LoginException le = (LoginException) e;
            return new BackendException(display + ": login refused: " + le.getMessage(), le.isConfigurationError(), le);
        }
        if (e instanceof BackendException) {
            return e;
        }
        return new BackendException(display + ": login failed: " + e.getMessage(), e);
    }

    private static Throwable unwrap(Throwable t) {
        Throwable e = t;
        while (e instanceof CompletionException && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    @Override
    public String toString() {
        return "IscsiDriver[" + display + "]";
    }
}
