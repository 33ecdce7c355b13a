package io.mpathnbd.server;

import io.mpathnbd.core.backend.BackendContext;
import io.mpathnbd.core.backend.BackendDriver;
import io.mpathnbd.core.backend.DriverOptions;
import io.mpathnbd.core.backend.Drivers;
import io.mpathnbd.core.export.Export;
import io.mpathnbd.core.backend.AccessState;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.path.PathConfig;
import io.mpathnbd.core.reservation.ExportReservations;
import io.mpathnbd.server.access.ExportAccess;
import io.mpathnbd.server.admin.AdminServer;
import io.mpathnbd.server.config.AdminAuth;
import io.mpathnbd.server.config.ConfigException;
import io.mpathnbd.server.config.ExportDefinition;
import io.mpathnbd.server.config.GatewayConfig;
import io.mpathnbd.server.config.HostPort;
import io.mpathnbd.server.config.PathDefinition;
import io.mpathnbd.server.config.PathUris;
import io.mpathnbd.server.frontend.NbdFrontend;
import io.mpathnbd.server.metrics.ExportMetrics;
import io.mpathnbd.server.metrics.GatewayMetrics;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The assembled gateway process: event loops, backend drivers, one export per configured export, the NBD front end
 * and the admin API. Exports are fixed at start; paths and iopolicies change at run time through the admin API.
 */
public final class Gateway implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Gateway.class);
    private static final long BIND_TIMEOUT_SECONDS = 10;
    private static final long CLOSE_TIMEOUT_SECONDS = 10;

    private final GatewayConfig config;
    private final EventLoops loops;
    private final Drivers drivers;
    private final GatewayMetrics metrics;
    private final List<Export> exportList = new ArrayList<>();
    private final Map<Export, ExportReservations> reservations = new LinkedHashMap<>();
    private GatewayExports catalog;
    private NbdFrontend frontend;
    private AdminServer admin;
    private InetSocketAddress nbdAddress;
    private InetSocketAddress adminAddress;
    private volatile boolean closed;
    /** The certificates of the TLS listeners; null until the start has read them. */
    private GatewayTls tls;

    private Gateway(GatewayConfig config, EventLoops loops) {
        this.config = config;
        this.loops = loops;
        this.drivers = new Drivers(new BackendContext(loops.workers(), loops.socketChannelClass()));
        this.metrics = new GatewayMetrics();
    }

    /**
     * Starts everything the config describes. The listeners bind first and the paths connect after, in the background:
     * a client that asks for an export before it has a usable path waits for one (up to {@code attach-wait}), and
     * I/O is held while no path is live. Throws {@link ConfigException} for a path no transport accepts or an
     * admin API that other machines reach without authentication, and an exception naming the address when a
     * listener cannot bind (then no path has been contacted).
     */
    public static Gateway start(GatewayConfig config) throws Exception {
        config.adminAuth().checkExposure(config.admin());
        Gateway g = new Gateway(config, EventLoops.create("mpath", 0, config.busyPoll(), config.transport()));
        try {
            // certificate files are read before anything binds, so a wrong one fails the start cleanly
            g.tls = GatewayTls.load(config, g.metrics);
            g.createExports();
            g.startListeners();
            g.startPaths();
        } catch (Exception | Error e) {
            g.close();
            throw e;
        }
        return g;
    }

    private void createExports() {
        int maxPayload = config.limits().maxPayload();
        // every driver first, so a URI no transport accepts fails the start before anything runs
        List<List<BackendDriver>> drivers = new ArrayList<>();
        try {
            for (int i = 0; i < config.exports().size(); i++) {
                ExportDefinition def = config.exports().get(i);
                List<BackendDriver> forExport = new ArrayList<>();
                drivers.add(forExport);
                for (int j = 0; j < def.paths().size(); j++) {
                    PathDefinition path = def.paths().get(j);
                    String where = "exports[" + i + "].paths[" + j + "]";
                    BackendDriver driver = createDriver(where + ".uri", path.uri(),
                            path.driverOptions(def.driverOptions(maxPayload)));
                    forExport.add(driver);
                    if (def.reservationKey().present() && !driver.offersReservations()) {
                        throw new ConfigException("export '" + def.name() + "': " + where + " (path " + path.id()
                                + ", " + driver.displayUri() + ") has no persistent reservations (NBD and file paths"
                                + " have none), but the export has a reservation key to register on every path");
                    }
                }
                refuseZoneMix("exports[" + i + "] (" + def.name() + ")", def, forExport);
            }
        } catch (ConfigException e) {
            drivers.forEach(list -> list.forEach(BackendDriver::shutdown));
            throw e;
        }
        for (int i = 0; i < config.exports().size(); i++) {
            ExportDefinition def = config.exports().get(i);
            ExportMetrics observer = metrics.export(def.name());
            Export export = new Export(def.toExportConfig(), observer, loops.workers());
            observer.bind(export);
            exportList.add(export);
            // before any path starts: the key is registered on every session before it carries I/O
            ExportReservations pr = new ExportReservations(export, def.reservationKey().key(),
                    def.reservationKey().secret());
            if (def.settings().fenceByReservation()) {
                pr.fenceHungPaths();
            }
            reservations.put(export, pr);
            for (int j = 0; j < def.paths().size(); j++) {
                export.addPath(def.paths().get(j).toPathConfig(def.driverOptions(maxPayload)), drivers.get(i).get(j));
            }
        }
        Map<String, ExportAccess> access = new LinkedHashMap<>();
        config.exports().forEach(def -> access.put(def.name(), def.access()));
        catalog = new GatewayExports(exportList, access);
    }

    /** Lets every export's paths connect; an export that closes before it is ready (the gateway stops) says nothing. */
    private void startPaths() {
        for (Export export : exportList) {
            export.start().whenComplete((v, err) -> {
                if (err == null) {
                    LOG.info("export '{}' ready: {} bytes", export.name(), export.size());
                } else if (!closed) {
                    LOG.warn("export '{}' did not become ready: {}", export.name(), err.getMessage());
                }
            });
        }
    }

    /**
     * An export whose paths are known to differ in zonedness (an emulated zoned file beside an NBD path or a plain
     * file) is a configuration error: its sessions would be refused one by one at run time anyway.
     */
    private static void refuseZoneMix(String where, ExportDefinition def, List<BackendDriver> drivers) {
        int zoned = -1;
        int plain = -1;
        for (int j = 0; j < drivers.size(); j++) {
            Boolean z = drivers.get(j).zoned();
            if (Boolean.TRUE.equals(z) && zoned < 0) {
                zoned = j;
            } else if (Boolean.FALSE.equals(z) && plain < 0) {
                plain = j;
            }
        }
        if (zoned >= 0 && plain >= 0) {
            throw new ConfigException(where + ": path " + def.paths().get(zoned).id() + " ("
                    + drivers.get(zoned).displayUri() + ") is zoned but path " + def.paths().get(plain).id() + " ("
                    + drivers.get(plain).displayUri() + ") is not: an export cannot mix zoned and non-zoned paths");
        }
    }

    /**
     * Null when a path of this driver may join the export, else why not: its disk is zoned and the export's is not,
     * or the other way round. The export's zonedness comes from its disk once a path has connected, else from the
     * drivers of its paths; when neither tells (iSCSI paths not yet connected), the session check decides later.
     */
    private static String zoneMix(Export export, BackendDriver driver) {
        Boolean adding = driver.zoned();
        if (adding == null) {
            return null;
        }
        if (export.zones() != null) {
            return adding ? null : driver.displayUri() + " is not zoned, but export '" + export.name()
                    + "' is: an export cannot mix zoned and non-zoned paths";
        }
        for (Path p : export.paths()) {
            Boolean z = p.zoned();
            if (z != null && !p.removing() && z.booleanValue() != adding) {
                return driver.displayUri() + (adding ? " is zoned but path " : " is not zoned but path ") + p.id()
                        + " (" + p.uri() + (adding ? ") is not" : ") is")
                        + ": an export cannot mix zoned and non-zoned paths";
            }
        }
        return null;
    }

    private BackendDriver createDriver(String where, String uri, DriverOptions options) {
        try {
            return drivers.create(uri, options);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(where + ": " + e.getMessage(), e);
        }
    }

    private void startListeners() throws Exception {
        frontend = new NbdFrontend(catalog, config.limits(), tls.frontend(config.tls()), metrics.frontendObserver(),
                loops.boss(), loops.workers(), loops.serverChannelClass());
        nbdAddress = bind("NBD", config.listen(), frontend.bind(config.listen().host(), config.listen().port()));
        admin = new AdminServer(this, loops, tls.admin());
        adminAddress = bind("admin API", config.admin(), admin.bind(config.admin().host(), config.admin().port()));
        tls.startChecks(loops.boss());
        AdminAuth auth = config.adminAuth();
        LOG.info("serving NBD on {} ({} export(s): {}, TLS {}); admin API on {}://{} (metrics at /metrics), {}",
                new HostPort(config.listen().host(), nbdAddress.getPort()), exportList.size(),
                exportList.stream().map(Export::name).toList(), config.tls().describe(),
                tls.admin() != null ? "https" : "http",
                new HostPort(config.admin().host(), adminAddress.getPort()), describe(auth));
        if (!auth.tokenRequired() && !adminAddress.getAddress().isLoopbackAddress()) {
            LOG.warn("the admin API listens on {}, reachable from other machines, without authentication"
                    + " (admin-auth open: all): whoever reaches it can fail, add and remove paths", config.admin());
        }
    }

    private static String describe(AdminAuth auth) {
        if (!auth.tokenRequired()) {
            return "no authentication";
        }
        return switch (auth.open()) {
            case NONE -> "bearer token required";
            case HEALTH -> "bearer token required except for /health";
            case READS -> "bearer token required for changes (reads open)";
            case ALL -> throw new IllegalStateException("a token with open: all");
        };
    }

    private static InetSocketAddress bind(String what, HostPort at, CompletableFuture<InetSocketAddress> f)
            throws Exception {
        try {
            return f.get(BIND_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new GatewayStartException("cannot listen for " + what + " on " + at + ": " + cause.getMessage(),
                    cause);
        } catch (TimeoutException e) {
            throw new GatewayStartException("cannot listen for " + what + " on " + at + ": timed out", e);
        }
    }

    public InetSocketAddress nbdAddress() {
        return nbdAddress;
    }

    public InetSocketAddress adminAddress() {
        return adminAddress;
    }

    /** The export with this name, or null. */
    public Export export(String name) {
        for (Export e : exportList) {
            if (e.name().equals(name)) {
                return e;
            }
        }
        return null;
    }

    public Collection<Export> exports() {
        return List.copyOf(exportList);
    }

    /** The persistent reservations of {@code export} (one of this gateway's). */
    public ExportReservations reservations(Export export) {
        ExportReservations r = reservations.get(export);
        if (r == null) {
            throw new IllegalArgumentException("not an export of this gateway: " + export.name());
        }
        return r;
    }

    /** Who may attach to {@code export} and who may write to it, as configured. */
    public ExportAccess access(Export export) {
        return catalog.access(export);
    }

    public GatewayConfig config() {
        return config;
    }

    public GatewayMetrics metrics() {
        return metrics;
    }

    /** The event loops every connection and timer runs on. */
    public EventLoops eventLoops() {
        return loops;
    }

    /** Client connections open on the NBD listener. */
    public int clientConnections() {
        return frontend == null ? 0 : frontend.activeConnections();
    }

    /**
     * Adds a path at run time with the export's transport settings; it starts connecting at once.
     *
     * @param id null: the first free p0, p1, ... (the export assigns it)
     * @throws ConfigException for a bad URI or id
     * @throws IllegalStateException if the id is taken
     */
    public Path addPath(Export export, String uri, String id) {
        PathUris.check("uri", uri);
        if (id != null) {
            PathDefinition.checkId("id", id);
            if (export.path(id) != null) {
                throw new IllegalStateException("export '" + export.name() + "' already has a path '" + id + "'");
            }
        }
        Map<String, String> existing = new LinkedHashMap<>();
        for (Path p : export.paths()) {
            if (!p.removing()) {
                existing.put(p.uri(), "path " + p.id());
            }
        }
        PathUris.checkDistinct("uri", uri, existing);
        DriverOptions options = config.export(export.name()).driverOptions(config.limits().maxPayload());
        BackendDriver driver = createDriver("uri", uri.trim(), options);
        if (reservations(export).key() != 0 && !driver.offersReservations()) {
            driver.shutdown();
            throw new ConfigException("uri: " + driver.displayUri() + " has no persistent reservations (NBD and file"
                    + " paths have none), but export '" + export.name() + "' registers a reservation key on every"
                    + " path");
        }
        String mix = zoneMix(export, driver);
        if (mix != null) {
            driver.shutdown();
            throw new ConfigException("uri: " + mix);
        }
        return export.addPath(new PathConfig(id, uri.trim(), 0, AccessState.OPTIMIZED, options), driver);
    }

    /** Stops the admin API, the NBD listener (clients get ESHUTDOWN), the exports and the event loops. */
    /**
     * Reloads the TLS listeners' certificates now (SIGHUP): new connections get the new ones, established ones keep
     * theirs; files that do not load leave the old certificates in use. Returns how many listeners took new ones.
     */
    public int reloadCertificates(String why) {
        return tls == null ? 0 : tls.reloadAll(why);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        LOG.info("shutting down");
        if (tls != null) {
            tls.close();
        }
        if (admin != null) {
            admin.close();
        }
        if (frontend != null) {
            await("NBD front end", frontend.close());
        }
        for (int i = exportList.size() - 1; i >= 0; i--) {
            Export e = exportList.get(i);
            await("export '" + e.name() + "'", e.close());
        }
        metrics.close();
        loops.close();
        LOG.info("stopped");
    }

    private static void await(String what, CompletableFuture<?> f) {
        try {
            f.get(CLOSE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("closing {}: {}", what, e.getCause() == null ? e.toString() : e.getCause().getMessage());
        }
    }
}
