package io.mpathnbd.bench;

import io.mpathnbd.core.export.Export;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.path.PathState;
import io.mpathnbd.core.policy.IoPolicies;
import io.mpathnbd.core.policy.IoPolicy;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.server.Gateway;
import io.mpathnbd.server.config.GatewayConfig;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Path selection, once per request: each iopolicy choosing among the live paths of a real export (a gateway started
 * in this JVM with file paths to one image, so the paths are real and live, without network I/O).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PathSelectionBenchmark {
    private static final BlockRequest READ_4K = new BlockRequest(BlockOp.READ, 0, 0, 4096, 1, null, null);

    @Param({"numa", "round-robin", "queue-depth", "service-time"})
    public String policy;

    @Param({"2", "4"})
    public int paths;

    private java.nio.file.Path dir;
    private Gateway gateway;
    private Path[] live;
    private IoPolicy selector;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("mpath-jmh-");
        java.nio.file.Path image = dir.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(1 << 20);
        }
        StringBuilder yaml = new StringBuilder("listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nexports:\n"
                + "  - name: bench\n    paths:\n");
        for (int i = 0; i < paths; i++) {
            yaml.append("      - file:").append(image.toAbsolutePath()).append('\n');
        }
        gateway = Gateway.start(GatewayConfig.parse(yaml.toString()));
        Export export = gateway.export("bench");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!export.paths().stream().allMatch(p -> p.state() == PathState.LIVE)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("paths of the benchmark export not live: " + export.paths());
            }
            Thread.sleep(10);
        }
        live = export.paths().toArray(new Path[0]);
        selector = IoPolicies.create(policy);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        gateway.close();
        try (Stream<java.nio.file.Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Benchmark
    public Path select() {
        return selector.select(READ_4K, live, null);
    }
}
