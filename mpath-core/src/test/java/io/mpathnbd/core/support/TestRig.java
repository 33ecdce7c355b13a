package io.mpathnbd.core.support;

import io.mpathnbd.core.backend.BackendContext;
import io.mpathnbd.core.backend.BackendDriver;
import io.mpathnbd.core.backend.DriverOptions;
import io.mpathnbd.core.export.Export;
import io.mpathnbd.core.export.ExportConfig;
import io.mpathnbd.core.export.FailbackMode;
import io.mpathnbd.core.observe.ExportObserver;
import io.mpathnbd.core.backend.AccessState;
import io.mpathnbd.core.path.PathConfig;
import io.mpathnbd.core.path.PathState;
import io.mpathnbd.file.FileDriverFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Real exports over real file paths for tests: image files in a test's own directory, event loops for timers, and
 * short durations so failover, hold and fence play out in milliseconds.
 */
public final class TestRig implements AutoCloseable {
    private final Path dir;
    private final EventLoopGroup loops = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private final BackendContext context = new BackendContext(loops, false);
    private final FileDriverFactory files = new FileDriverFactory();
    private final List<Export> exports = new ArrayList<>();

    public TestRig(Path dir) {
        this.dir = dir;
    }

    /** Durations in tens of milliseconds; probes effectively off unless a test turns them on. */
    public static ExportConfig fastConfig(String name) {
        return new ExportConfig(name, null, "numa", Duration.ofSeconds(5), false, 8, Duration.ofMillis(50),
                Duration.ofSeconds(5), FailbackMode.IMMEDIATE, Duration.ofMillis(10), Duration.ofMillis(40),
                Duration.ofHours(1), Duration.ofMillis(10), null);
    }

    public EventLoopGroup loops() {
        return loops;
    }

    public Path image(String name, long size) throws IOException {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(size);
        }
        return p;
    }

    public BackendDriver fileDriver(Path image) {
        return files.create(URI.create("file:" + image.toAbsolutePath()), context, DriverOptions.defaults());
    }

    public BackendDriver fileDriver(String uri) {
        return files.create(URI.create(uri), context, DriverOptions.defaults());
    }

    public FaultInjectingDriver faulty(Path image) {
        return new FaultInjectingDriver(fileDriver(image));
    }

    public FaultInjectingDriver faulty(String uri) {
        return new FaultInjectingDriver(fileDriver(uri));
    }

    public Export export(ExportConfig config) {
        return export(config, ExportObserver.NONE);
    }

    public Export export(ExportConfig config, ExportObserver observer) {
        Export e = new Export(config, observer, loops);
        exports.add(e);
        return e;
    }

    /** Starts the export; returns once it is ready and every one of its paths is live. */
    public static Export startLive(Export e) throws Exception {
        e.start().get(10, TimeUnit.SECONDS);
        Await.until("all paths of " + e + " live", () -> e.paths().stream().allMatch(p -> p.state() == PathState.LIVE));
        return e;
    }

    public static PathConfig path(String id) {
        return path(id, 0, AccessState.OPTIMIZED);
    }

    public static PathConfig path(String id, int distance, AccessState access) {
        return new PathConfig(id, "test:" + id, distance, access, DriverOptions.defaults()
                .withRequestTimeout(Duration.ofMillis(500)).withConnectTimeout(Duration.ofSeconds(1)));
    }

    @Override
    public void close() {
        try {
            for (Export e : exports) {
                e.close().get(10, TimeUnit.SECONDS);
            }
        } catch (ExecutionException | TimeoutException e) {
            throw new AssertionError("an export did not close", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        } finally {
            loops.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS).syncUninterruptibly();
        }
    }
}
