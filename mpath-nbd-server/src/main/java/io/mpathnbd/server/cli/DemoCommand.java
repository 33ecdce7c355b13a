package io.mpathnbd.server.cli;

import io.mpathnbd.core.export.Export;
import io.mpathnbd.server.Gateway;
import io.mpathnbd.server.config.ConfigException;
import io.mpathnbd.server.config.GatewayConfig;
import io.mpathnbd.server.config.Units;
import java.io.File;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code mpath-nbd demo}: a self-contained multipath gateway over two local NBD targets. */
@Command(name = "demo",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {"Start, in this process, two local NBD targets serving one sparse image and a gateway "
                + "export 'disk0' over both; print how to attach it and how to fail a path. Runs until Ctrl-C.",
                ""})
final class DemoCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(DemoCommand.class);
    private static final long READY_WAIT_SECONDS = 30;
    /** A demo serves this machine only unless told otherwise: its disk is anyone's who reaches the port. */
    static final String DEFAULT_LISTEN = "127.0.0.1:10809";

    @Option(names = "--dir", paramLabel = "DIR", defaultValue = "mpath-demo",
            description = "Where the image lives (default: ./${DEFAULT-VALUE}); an existing image is reused.")
    Path dir;

    @Option(names = "--size", paramLabel = "SIZE", defaultValue = "1GiB",
            description = "Size of a new image (default: ${DEFAULT-VALUE}).")
    String size;

    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = DEFAULT_LISTEN,
            description = "Gateway NBD address (default: ${DEFAULT-VALUE}; 0.0.0.0:10809 serves other machines "
                    + "too).")
    String listen;

    @Option(names = "--admin", paramLabel = "HOST:PORT", defaultValue = GatewayConfig.DEFAULT_ADMIN,
            description = "Admin API address (default: ${DEFAULT-VALUE}).")
    String admin;

    @Option(names = "--target-ports", paramLabel = "PORT,PORT", split = ",", defaultValue = "10810,10811",
            description = "Ports of the two local targets on 127.0.0.1 (default: ${DEFAULT-VALUE}).")
    List<Integer> targetPorts;

    @Option(names = "--iopolicy", paramLabel = "POLICY", description = "Iopolicy of disk0 (default: numa).")
    String iopolicy;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        long bytes = Units.size("--size", size);
        if (bytes < 1 << 20) {
            throw new ConfigException("--size: at least 1MiB, got '" + size + "'");
        }
        if (targetPorts.size() != 2 || targetPorts.stream().anyMatch(p -> p < 0 || p > 65535)) {
            throw new ConfigException("--target-ports: expected two ports, e.g. 10810,10811");
        }
        Demo demo = Demo.start(dir, bytes, listen, admin,
                targetPorts.stream().mapToInt(Integer::intValue).toArray(), iopolicy);
        awaitReady(demo.gateway().export(Demo.EXPORT));
        printInstructions(spec.commandLine().getOut(), demo.gateway(), demo.image());
        Shutdown.onSignal(demo::close).await();
        return Main.EXIT_OK;
    }

    /** The banner says "attach it": it comes once the export can be attached (its local targets answer at once). */
    private static void awaitReady(Export export) throws InterruptedException {
        CountDownLatch ready = new CountDownLatch(1);
        Runnable cancel = export.onReady(ready::countDown);
        if (!ready.await(READY_WAIT_SECONDS, TimeUnit.SECONDS)) {
            cancel.run();
            LOG.warn("export '{}' is not ready after {} s; clients that attach now wait for it", export.name(),
                    READY_WAIT_SECONDS);
        }
    }

    static void printInstructions(PrintWriter out, Gateway gateway, Path image) {
        InetSocketAddress nbd = gateway.nbdAddress();
        String host = nbd.getAddress().isAnyLocalAddress() ? "127.0.0.1" : nbd.getAddress().getHostAddress();
        String uri = "nbd://" + host + ":" + nbd.getPort() + "/" + Demo.EXPORT;
        InetSocketAddress adm = gateway.adminAddress();
        String adminFlag = adm.getPort() == 9810 ? "" : " --admin 127.0.0.1:" + adm.getPort();
        String cli = "java -jar " + jarPath();
        out.println();
        out.println("mpath-nbd demo is running: export '" + Demo.EXPORT + "' over two paths to " + image);
        gateway.export(Demo.EXPORT).paths().forEach(p -> out.println("  " + p.id() + "  " + p.uri()));
        out.println();
        out.println("Attach it:");
        out.println("  nbdinfo " + uri);
        out.println("  qemu-io -f raw -c 'write -P 0xab 0 1M' -c 'read -P 0xab 0 1M' " + uri);
        out.println("  nbd-client " + host + " " + nbd.getPort() + " /dev/nbd0 -N " + Demo.EXPORT);
        out.println();
        out.println("Watch it:");
        out.println("  " + cli + " status" + adminFlag);
        out.println("  curl -s http://127.0.0.1:" + adm.getPort() + "/metrics | grep ^mpath_");
        out.println();
        out.println("Fail a path and bring it back (I/O keeps flowing on the other):");
        out.println("  " + cli + " path fail" + adminFlag + " " + Demo.EXPORT + " p0");
        out.println("  " + cli + " path reinstate" + adminFlag + " " + Demo.EXPORT + " p0");
        out.println();
        out.println("Press Ctrl-C to stop.");
        out.flush();
    }

    /** How to run this program: the jar we run from (relative when below the working directory), else the default. */
    static String jarPath() {
        try {
            Path self = Paths.get(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (self.toString().endsWith(".jar")) {
                Path cwd = Paths.get("").toAbsolutePath();
                return self.startsWith(cwd) ? cwd.relativize(self).toString() : self.toString();
            }
        } catch (Exception | Error e) {
            // fall through to the documented location
        }
        return "mpath-nbd-server" + File.separator + "target" + File.separator + "mpath-nbd.jar";
    }
}
