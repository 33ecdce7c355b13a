package io.mpathnbd.server.cli;

import io.mpathnbd.core.backend.BackendContext;
import io.mpathnbd.core.backend.DriverOptions;
import io.mpathnbd.core.backend.Drivers;
import io.mpathnbd.core.export.Export;
import io.mpathnbd.core.export.ExportConfig;
import io.mpathnbd.core.observe.ExportObserver;
import io.mpathnbd.core.path.PathConfig;
import io.mpathnbd.server.EventLoops;
import io.mpathnbd.server.frontend.ExportCatalog;
import io.mpathnbd.server.frontend.FrontendLimits;
import io.mpathnbd.server.frontend.FrontendObserver;
import io.mpathnbd.server.frontend.NbdFrontend;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;

/**
 * A plain single-path NBD server for the demo: the project's own front end over an export with one {@code file:}
 * path. Two of them on one image give the gateway two paths to the same disk.
 */
final class DemoTarget implements AutoCloseable {
    private final Export export;
    private final NbdFrontend frontend;
    private final InetSocketAddress address;

    private DemoTarget(Export export, NbdFrontend frontend, InetSocketAddress address) {
        this.export = export;
        this.frontend = frontend;
        this.address = address;
    }

    static DemoTarget start(EventLoops loops, int index, String exportName, Path image, String host, int port)
            throws Exception {
        Drivers drivers = new Drivers(new BackendContext(loops.workers(), loops.socketChannelClass()));
        String uri = image.toAbsolutePath().toUri().toString();
        // its own name tells its log lines apart from the gateway's export; clients ask for exportName
        String ownName = "demo-target-" + index;
        Export export = new Export(ExportConfig.defaults(ownName), ExportObserver.NONE, loops.workers());
        export.addPath(PathConfig.of(uri).withId("file"), drivers.create(uri, DriverOptions.defaults()));
        export.start().get(30, TimeUnit.SECONDS);
        ExportCatalog catalog = new ExportCatalog() {
            @Override
            public Export find(String name) {
                boolean ours = name == null || name.isEmpty() || name.equals(exportName) || name.equals(ownName);
                return ours ? export : null;
            }

            @Override
            public Collection<Export> all() {
                return List.of(export);
            }
        };
        NbdFrontend frontend = new NbdFrontend(catalog, FrontendLimits.defaults(), FrontendObserver.NONE,
                loops.boss(), loops.workers(), loops.serverChannelClass());
        InetSocketAddress bound;
        try {
            bound = frontend.bind(host, port).get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            frontend.close();
            export.close();
            throw new CliException("demo target cannot listen on " + host + ":" + port + ": "
                    + e.getCause().getMessage() + " (choose other ports with --target-ports)", e.getCause());
        }
        return new DemoTarget(export, frontend, bound);
    }

    InetSocketAddress address() {
        return address;
    }

    @Override
    public void close() {
        try {
            frontend.close().get(10, TimeUnit.SECONDS);
            export.close().get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            LoggerFactory.getLogger(DemoTarget.class).warn("closing demo target {}: {}", address, e.toString());
        }
    }
}
