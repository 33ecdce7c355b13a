package io.mpathnbd.server.cli;

import io.mpathnbd.server.EventLoops;
import io.mpathnbd.server.Gateway;
import io.mpathnbd.server.config.GatewayConfig;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded default: a sparse image, two local single-path NBD targets serving it, and a gateway whose export
 * {@value #EXPORT} reaches the image through both. Everything runs in this process.
 */
final class Demo implements AutoCloseable {
    static final String EXPORT = "disk0";
    private static final Logger LOG = LoggerFactory.getLogger(Demo.class);

    private final EventLoops targetLoops;
    private final List<DemoTarget> targets;
    private final Gateway gateway;
    private final Path image;

    private Demo(EventLoops targetLoops, List<DemoTarget> targets, Gateway gateway, Path image) {
        this.targetLoops = targetLoops;
        this.targets = targets;
        this.gateway = gateway;
        this.image = image;
    }

    /**
     * @param targetPorts ports of the two local targets on 127.0.0.1 (0 = any free port)
     */
    static Demo start(Path dir, long size, String listen, String admin, int[] targetPorts, String iopolicy)
            throws Exception {
        Path image = prepareImage(dir, size);
        EventLoops loops = EventLoops.create("target", 2);
        List<DemoTarget> targets = new ArrayList<>();
        try {
            StringBuilder spec = new StringBuilder(EXPORT).append('=');
            for (int i = 0; i < targetPorts.length; i++) {
                DemoTarget t = DemoTarget.start(loops, i, EXPORT, image, "127.0.0.1", targetPorts[i]);
                targets.add(t);
                spec.append(i == 0 ? "" : ",").append("nbd://127.0.0.1:").append(t.address().getPort())
                        .append('/').append(EXPORT);
                LOG.info("demo target {} serves {} on 127.0.0.1:{}", i, image, t.address().getPort());
            }
            GatewayConfig config = GatewayConfig.inline(listen, admin, List.of(spec.toString()), iopolicy);
            Gateway gateway = Gateway.start(config);
            return new Demo(loops, targets, gateway, image);
        } catch (Exception | Error e) {
            closeTargets(targets);
            loops.close();
            throw e;
        }
    }

    private static Path prepareImage(Path dir, long size) throws IOException {
        Files.createDirectories(dir);
        Path image = dir.resolve(EXPORT + ".img").toAbsolutePath();
        if (Files.exists(image)) {
            LOG.info("reusing demo image {} ({} bytes)", image, Files.size(image));
            return image;
        }
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(size); // sparse: takes no space until written
        }
        LOG.info("created sparse demo image {} ({} bytes)", image, size);
        return image;
    }

    Gateway gateway() {
        return gateway;
    }

    Path image() {
        return image;
    }

    List<DemoTarget> targets() {
        return targets;
    }

    @Override
    public void close() {
        gateway.close();
        closeTargets(targets);
        targetLoops.close();
    }

    private static void closeTargets(List<DemoTarget> targets) {
        targets.forEach(DemoTarget::close);
    }
}
