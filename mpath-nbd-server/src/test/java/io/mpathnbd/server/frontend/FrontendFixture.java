package io.mpathnbd.server.frontend;

import io.mpathnbd.core.backend.BackendContext;
import io.mpathnbd.core.backend.DriverOptions;
import io.mpathnbd.core.backend.Drivers;
import io.mpathnbd.core.export.Export;
import io.mpathnbd.core.export.ExportConfig;
import io.mpathnbd.core.observe.ExportObserver;
import io.mpathnbd.core.path.PathConfig;
import io.mpathnbd.server.EventLoops;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A front end running in the test JVM on 127.0.0.1 (any free port) over real exports whose paths are real backends
 * (the file backend, or NBD servers), with a {@link RecordingObserver}. Exports can be added while it runs.
 */
final class FrontendFixture implements AutoCloseable {
    final RecordingObserver observer = new RecordingObserver();
    private final EventLoops loops = EventLoops.create("frontend-test", 2);
    private final Drivers drivers = new Drivers(new BackendContext(loops.workers(), loops.socketChannelClass()));
    private final Map<String, Export> exports = new ConcurrentHashMap<>();
    private final List<Export> ordered = new CopyOnWriteArrayList<>();
    private NbdFrontend frontend;
    private InetSocketAddress address;

    private final ExportCatalog catalog = new ExportCatalog() {
        @Override
        public Export find(String name) {
            if (name.isEmpty()) {
                return ordered.isEmpty() ? null : ordered.get(0);
            }
            return exports.get(name);
        }

        @Override
        public Collection<Export> all() {
            return new ArrayList<>(ordered);
        }
    };

    /** Starts the front end with {@code limits}. */
    FrontendFixture start(FrontendLimits limits) throws Exception {
        frontend = new NbdFrontend(catalog, limits, observer, loops.boss(), loops.workers(), loops.serverChannelClass());
        address = frontend.bind("127.0.0.1", 0).get(10, TimeUnit.SECONDS);
        return this;
    }

    FrontendFixture start() throws Exception {
        return start(FrontendLimits.defaults());
    }

    /** An export over {@code uris} (each a path), started and ready. */
    Export export(ExportConfig config, String... uris) throws Exception {
        return export(config, ExportObserver.NONE, uris);
    }

    /** An export over {@code uris} watched by {@code exportObserver}, started and ready. */
    Export export(ExportConfig config, ExportObserver exportObserver, String... uris) throws Exception {
        Export export = new Export(config, exportObserver, loops.workers());
        for (String uri : uris) {
            export.addPath(PathConfig.of(uri), drivers.create(uri, DriverOptions.defaults()));
        }
        export.start().get(30, TimeUnit.SECONDS);
        exports.put(config.name(), export);
        ordered.add(export);
        return export;
    }

    /** A two-path export: two file paths on one image. */
    Export fileExport(String name, Path image) throws Exception {
        return export(ExportConfig.defaults(name), "file:" + image, "file:" + image);
    }

    /** An export in the catalog that never becomes ready: its only path leads nowhere. */
    Export unreadyExport(String name, String uri) {
        Export export = new Export(ExportConfig.defaults(name), ExportObserver.NONE, loops.workers());
        export.addPath(PathConfig.of(uri), drivers.create(uri, DriverOptions.defaults()));
        export.start();
        exports.put(name, export);
        ordered.add(export);
        return export;
    }

    static ExportConfig describedConfig(String name, String description) {
        ExportConfig d = ExportConfig.defaults(name);
        return new ExportConfig(name, description, d.ioPolicy(), d.noPathTimeout(), d.queueIfNoPath(),
                d.maxRetries(), d.fenceDelay(), d.removalDelay(), d.failback(), d.reconnectMin(), d.reconnectMax(),
                d.probeInterval(), d.retryDelay(), d.expectedIdentity());
    }

    NbdFrontend frontend() {
        return frontend;
    }

    InetSocketAddress address() {
        return address;
    }

    int port() {
        return address.getPort();
    }

    /** The NBD URI of an export of this front end, for the libnbd and qemu tools. */
    String uri(String exportName) {
        return "nbd://127.0.0.1:" + port() + "/" + exportName;
    }

    @Override
    public void close() {
        try {
            if (frontend != null) {
                frontend.close().get(30, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while closing the front end", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("front end did not close", e);
        } finally {
            for (Export e : ordered) {
                try {
                    e.close().get(30, TimeUnit.SECONDS);
                } catch (Exception ignored) {
                    // best effort: the next export still closes
                }
            }
            loops.close();
        }
    }
}
