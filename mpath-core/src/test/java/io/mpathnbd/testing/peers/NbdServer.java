package io.mpathnbd.testing.peers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The reference nbd-server (3.x), started as {@code nbd-server -C CONF -p PIDFILE} with a generated config listening
 * on 127.0.0.1. It serves simple replies only (no structured replies), and advertises CAN_MULTI_CONN.
 *
 * <p>nbd-server daemonizes and serves each client from a forked child; this fixture tracks the daemon by its pid file
 * and {@link #kill()}, {@link #stop()}, {@link #cont()} signal the children too. Its image must live in a directory
 * of the test's own (e.g. JUnit's {@code @TempDir}), not directly in the system temporary directory.
 *
 * <pre>{@code
 * Path image = Images.sparse(tmp, "disk.img", 64 << 20);
 * try (NbdServer server = NbdServer.start(tmp, "disk", image)) { ... server.uri() ... }
 * }</pre>
 */
public final class NbdServer extends NbdPeer {
    private final Map<String, Path> exports;

    private NbdServer(Launched launched, String defaultExport, Map<String, Path> exports) {
        super(launched.process(), launched.port(), defaultExport);
        this.exports = exports;
    }

    /** One export {@code exportName} serving {@code image}; config, pid file and log go to {@code dir}. */
    public static NbdServer start(Path dir, String exportName, Path image) {
        return builder().dir(dir).export(exportName, image).start();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The image file of an export. */
    public Path image(String exportName) {
        return exports.get(exportName);
    }

    /** Options for one nbd-server; {@link #start()} launches it. */
    public static final class Builder {
        private Path dir;
        private int port;
        private final Map<String, Path> exports = new LinkedHashMap<>();
        private final Map<String, Boolean> readOnly = new LinkedHashMap<>();

        private Builder() {
        }

        /** Directory for the config, pid file and log (required: a directory of the test's own). */
        public Builder dir(Path dir) {
            this.dir = dir;
            return this;
        }

        /** Fixed port; default: a free one. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** Adds a writable export with flush, fua and trim enabled. The first export is the default of uri(). */
        public Builder export(String name, Path image) {
            exports.put(name, image.toAbsolutePath());
            readOnly.put(name, false);
            return this;
        }

        /** Adds a read-only export. */
        public Builder readOnlyExport(String name, Path image) {
            exports.put(name, image.toAbsolutePath());
            readOnly.put(name, true);
            return this;
        }

        /** Starts the server and returns once it accepts connections; fails with its log if it cannot start. */
        public NbdServer start() {
            if (dir == null) {
                throw new IllegalStateException("nbd-server needs a directory of the test's own: dir(..)");
            }
            if (exports.isEmpty()) {
                throw new IllegalStateException("nbd-server needs at least one export");
            }
            Path workDir = PeerDirs.ensure(dir).toAbsolutePath();
            String tag = Long.toString(System.nanoTime());
            Path conf = workDir.resolve("nbd-server-" + tag + ".conf");
            Path pidFile = workDir.resolve("nbd-server-" + tag + ".pid");
            Path log = workDir.resolve("nbd-server-" + tag + ".log");
            Launched launched = NbdPeer.launch(port, p -> {
                writeConfig(conf, p);
                deleteQuietly(pidFile);
                return daemon(conf, pidFile, log);
            });
            return new NbdServer(launched, exports.keySet().iterator().next(), Map.copyOf(exports));
        }

        private void writeConfig(Path conf, int port) {
            StringBuilder sb = new StringBuilder();
            sb.append("[generic]\n");
            sb.append("port = ").append(port).append('\n');
            sb.append("listenaddr = ").append(HOST).append('\n');
            if ("root".equals(System.getProperty("user.name"))) {
                sb.append("user = root\ngroup = root\n");
            }
            for (Map.Entry<String, Path> e : exports.entrySet()) {
                sb.append('[').append(e.getKey()).append("]\n");
                sb.append("exportname = ").append(e.getValue()).append('\n');
                sb.append("flush = true\nfua = true\ntrim = true\n");
                if (readOnly.get(e.getKey())) {
                    sb.append("readonly = true\n");
                }
            }
            try {
                Files.writeString(conf, sb.toString(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + conf, e);
            }
        }

        /** Runs the launcher, which forks the daemon and exits; the pid file names the daemon. */
        private static PeerProcess daemon(Path conf, Path pidFile, Path log) {
            PeerProcess launcher = PeerProcess.start("nbd-server-launcher", log,
                    List.of("nbd-server", "-C", conf.toString(), "-p", pidFile.toString()));
            long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
            while (true) {
                long pid = readPid(pidFile);
                if (pid > 0 && PeerProcess.isRunning(pid)) {
                    PeerProcess daemon = PeerProcess.adopt("nbd-server", pid, log);
                    if (pid != launcher.pid()) {
                        awaitExit(launcher);
                    }
                    return daemon;
                }
                boolean launcherFailed = launcher.exitCode().orElse(0) != 0;
                if (System.nanoTime() > deadline || launcherFailed || (!launcher.isAlive() && pid > 0)) {
                    launcher.close();
                    throw new IllegalStateException("nbd-server did not start (pid file " + pidFile + "):\n"
                            + PeerProcess.tail(log, 8192));
                }
                PeerProcess.sleep(10);
            }
        }

        /** The launcher exits once the daemon runs; don't leave it to the reaper. */
        private static void awaitExit(PeerProcess launcher) {
            long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
            while (launcher.isAlive() && System.nanoTime() < deadline) {
                PeerProcess.sleep(5);
            }
            launcher.close();
        }

        private static long readPid(Path pidFile) {
            try {
                String s = Files.readString(pidFile, StandardCharsets.US_ASCII).trim();
                return s.isEmpty() ? -1 : Long.parseLong(s);
            } catch (IOException | NumberFormatException e) {
                return -1;
            }
        }

        private static void deleteQuietly(Path p) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
