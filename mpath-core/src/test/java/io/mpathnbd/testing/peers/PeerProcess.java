package io.mpathnbd.testing.peers;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running peer program (nbdkit, nbd-server, qemu-nbd, ...) started by a test: its pid, its log file (stdout and
 * stderr together), and the signals tests use to make a backend fail: {@link #kill()} (dead), {@link #stop()} (hung),
 * {@link #cont()} (back).
 *
 * <p>Signals go to the process and to all its descendants, because some servers (nbd-server) serve each client from
 * a forked child: killing only the parent would leave open connections alive. Every peer is killed when it is
 * closed, and at the latest when the JVM exits (shutdown hook).
 */
public final class PeerProcess implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PeerProcess.class);
    private static final Set<PeerProcess> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (PeerProcess p : LIVE) {
                p.killQuietly();
            }
        }, "peer-reaper"));
    }

    private final String name;
    private final Process process;
    private final ProcessHandle handle;
    private final Path logFile;
    private final List<Runnable> cleanups = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    private PeerProcess(String name, Process process, ProcessHandle handle, Path logFile) {
        this.name = name;
        this.process = process;
        this.handle = handle;
        this.logFile = logFile;
        LIVE.add(this);
    }

    /**
     * Starts {@code command} as a child process with standard output and error appended to {@code logFile}, and
     * standard input from /dev/null. The system directories come first on its PATH (see {@link Tools}).
     *
     * @param name a short label for logs and messages, e.g. "nbdkit"
     */
    public static PeerProcess start(String name, Path logFile, List<String> command) {
        ProcessBuilder pb = new ProcessBuilder(Tools.resolve(command));
        Tools.prepareEnvironment(pb.environment());
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        try {
            Files.createDirectories(logFile.toAbsolutePath().getParent());
            Process p = pb.start();
            PeerProcess peer = new PeerProcess(name, p, p.toHandle(), logFile);
            LOG.info("started {} pid {}: {} (log {})", name, p.pid(), String.join(" ", command), logFile);
            return peer;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + name + ": " + String.join(" ", command), e);
        }
    }

    /**
     * Takes charge of a daemon that is not a child of this JVM (a server that forked into the background and told its
     * pid through a pid file). It is signalled and killed like a child.
     */
    public static PeerProcess adopt(String name, long pid, Path logFile) {
        ProcessHandle h = ProcessHandle.of(pid)
                .orElseThrow(() -> new IllegalStateException(name + " pid " + pid + " is not running"));
        LOG.info("adopted {} pid {} (log {})", name, pid, logFile);
        return new PeerProcess(name, null, h, logFile);
    }

    public String name() {
        return name;
    }

    public long pid() {
        return handle.pid();
    }

    public Path logFile() {
        return logFile;
    }

    /** True while the process runs (a stopped process is running; a zombie is not). */
    public boolean isAlive() {
        if (process != null && !process.isAlive()) {
            return false;
        }
        return isRunning(handle.pid());
    }

    /** The exit status once a child process has exited; empty while it runs or for an adopted daemon. */
    public OptionalInt exitCode() {
        return process != null && !process.isAlive() ? OptionalInt.of(process.exitValue()) : OptionalInt.empty();
    }

    /** The last few KiB of the log, for failure messages. */
    public String logTail() {
        return tail(logFile, 8192);
    }

    /**
     * Waits until something accepts TCP connections on {@code host:port}. Fails with the log's tail if the process
     * exits first or the port does not open in time. (The probe connection is closed at once; servers log it as a
     * client that went away.)
     */
    public void waitForPort(String host, int port, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (!isAlive()) {
                throw new IllegalStateException(name + " (pid " + pid() + ") exited before listening on " + host + ":"
                        + port + "; log " + logFile + ":\n" + logTail());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(host, port), 200);
                return;
            } catch (IOException notYet) {
                // not listening yet
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(name + " (pid " + pid() + ") does not listen on " + host + ":" + port
                        + " after " + timeout + "; log " + logFile + ":\n" + logTail());
            }
            sleep(20);
        }
    }

    /** SIGKILL to the process and all its descendants; returns once they are gone. A dead backend. */
    public void kill() {
        killAll(Duration.ofSeconds(10));
        LOG.info("killed {} pid {}", name, pid());
    }

    /**
     * SIGSTOP to the process and its descendants: a hung backend whose connections stay open. Returns once every one
     * of them is stopped (signals are delivered asynchronously).
     */
    public void stop() {
        signal("STOP", List.of(handle));
        List<ProcessHandle> children = handle.descendants().toList();
        signal("STOP", children);
        List<ProcessHandle> all = new ArrayList<>(children);
        all.add(handle);
        awaitState(all, true);
        LOG.info("stopped {} pid {}", name, pid());
    }

    /** SIGCONT to the process and its descendants, undoing {@link #stop()}; returns once they run again. */
    public void cont() {
        List<ProcessHandle> all = new ArrayList<>();
        all.add(handle);
        all.addAll(handle.descendants().toList());
        signal("CONT", all);
        awaitState(all, false);
        LOG.info("continued {} pid {}", name, pid());
    }

    private void awaitState(List<ProcessHandle> targets, boolean stopped) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (ProcessHandle h : targets) {
            while (true) {
                char state = state(h.pid());
                boolean isStopped = state == 'T' || state == 't';
                if (isStopped == stopped || state == '?' || state == 'Z' || state == 'X') {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(name + ": pid " + h.pid() + " still in state " + state + " after SIG"
                            + (stopped ? "STOP" : "CONT"));
                }
                sleep(2);
            }
        }
    }

    /** Kills the process (and descendants) if it still runs and runs the owner's clean-up (e.g. removing its files). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (isAlive()) {
            killQuietly();
        }
        LIVE.remove(this);
        for (Runnable r : cleanups) {
            try {
                r.run();
            } catch (RuntimeException e) {
                LOG.warn("clean-up after {} failed: {}", name, e.toString());
            }
        }
    }

    /** Registers clean-up to run after the process is killed on {@link #close()}. */
    void onClose(Runnable cleanup) {
        cleanups.add(cleanup);
    }

    private void killQuietly() {
        try {
            killAll(Duration.ofSeconds(5));
        } catch (RuntimeException e) {
            // best effort at shutdown
        }
    }

    /** Children are listed first: once the parent is dead they are re-parented and no longer its descendants. */
    private void killAll(Duration timeout) {
        List<ProcessHandle> all = new ArrayList<>();
        all.addAll(handle.descendants().toList());
        all.add(handle);
        all.forEach(ProcessHandle::destroyForcibly);
        long deadline = System.nanoTime() + timeout.toNanos();
        for (ProcessHandle h : all) {
            while (isRunning(h.pid()) && System.nanoTime() < deadline) {
                sleep(5);
            }
        }
        if (process != null) {
            try {
                process.waitFor(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void signal(String sig, List<ProcessHandle> targets) {
        if (targets.isEmpty()) {
            return;
        }
        String[] cmd = new String[targets.size() + 2];
        cmd[0] = "kill";
        cmd[1] = "-" + sig;
        for (int i = 0; i < targets.size(); i++) {
            cmd[i + 2] = Long.toString(targets.get(i).pid());
        }
        Tools.Result r = Tools.run(Duration.ofSeconds(10), cmd);
        if (!r.ok() && targets.stream().anyMatch(ProcessHandle::isAlive)) {
            throw new IllegalStateException("cannot send SIG" + sig + " to " + name + ": " + r.describe());
        }
    }

    /** Linux: a pid whose /proc entry exists and is not a zombie. */
    static boolean isRunning(long pid) {
        char state = state(pid);
        return state != '?' && state != 'Z' && state != 'X';
    }

    /** The process state letter from /proc (R, S, D, T, Z, ...), or '?' if there is no such process. */
    static char state(long pid) {
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        try {
            String s = Files.readString(stat, StandardCharsets.US_ASCII);
            int close = s.lastIndexOf(')');
            return close > 0 && close + 2 < s.length() ? s.charAt(close + 2) : '?';
        } catch (IOException e) {
            return '?';
        }
    }

    static String tail(Path file, int maxBytes) {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long len = f.length();
            long from = Math.max(0, len - maxBytes);
            byte[] b = new byte[(int) (len - from)];
            f.seek(from);
            f.readFully(b);
            return new String(b, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public String toString() {
        return name + "[pid " + pid() + "]";
    }
}
