package io.mpathnbd.testing.peers;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs the command-line NBD tools (nbdinfo, nbdsh, nbdcopy, qemu-io, qemu-img, fio, ...) to completion and captures
 * their output.
 *
 * <p>Every command runs with the system directories ({@code /usr/bin}, {@code /bin}, ...) first on {@code PATH}: a
 * user-installed Python earlier on the PATH (pyenv) lacks the {@code nbd} module that {@code nbdsh} needs.
 */
public final class Tools {
    private static final String SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /** Where to get each tool on Debian, for the message of {@link #require}. */
    private static final Map<String, String> PACKAGES = Map.ofEntries(
            Map.entry("nbdkit", "nbdkit"),
            Map.entry("nbd-server", "nbd-server"),
            Map.entry("nbd-client", "nbd-client"),
            Map.entry("qemu-nbd", "qemu-utils"),
            Map.entry("qemu-io", "qemu-utils"),
            Map.entry("qemu-img", "qemu-utils"),
            Map.entry("nbdinfo", "libnbd-bin"),
            Map.entry("nbdcopy", "libnbd-bin"),
            Map.entry("nbdsh", "python3-libnbd"),
            Map.entry("fio", "fio"),
            Map.entry("tgtd", "tgt"),
            Map.entry("fence_mpath", "fence-agents"),
            Map.entry("tgtadm", "tgt"),
            Map.entry("psktool", "gnutls-bin"),
            Map.entry("gnutls-cli", "gnutls-bin"));

    private Tools() {
    }

    /**
     * The outcome of one command.
     *
     * @param exitCode the process's exit status
     * @param stdout everything it wrote to standard output (UTF-8)
     * @param stderr everything it wrote to standard error (UTF-8)
     * @param command the command line, for messages
     */
    public record Result(int exitCode, String stdout, String stderr, List<String> command) {
        public boolean ok() {
            return exitCode == 0;
        }

        /** Returns this result if the exit code is 0, else throws an {@link AssertionError} showing the output. */
        public Result assertOk() {
            if (exitCode != 0) {
                throw new AssertionError("command failed with exit code " + exitCode + ": " + describe());
            }
            return this;
        }

        /** The command, its exit code and both outputs, for failure messages. */
        public String describe() {
            return String.join(" ", command) + "\n--- exit code: " + exitCode + "\n--- stdout:\n" + stdout
                    + "\n--- stderr:\n" + stderr;
        }
    }

    /**
     * Runs {@code cmd} and waits for it to exit. A command still running after {@code timeout} is killed (with its
     * children) and an {@link AssertionError} is thrown with the output so far. A non-zero exit is not an error here:
     * check {@link Result#exitCode()} or call {@link Result#assertOk()}.
     */
    public static Result run(Duration timeout, String... cmd) {
        return run(timeout, Map.of(), cmd);
    }

    /** Like {@link #run(Duration, String...)} with extra environment variables. */
    public static Result run(Duration timeout, Map<String, String> env, String... cmd) {
        List<String> command = List.of(cmd);
        ProcessBuilder pb = new ProcessBuilder(resolve(command));
        prepareEnvironment(pb.environment());
        pb.environment().putAll(env);
        pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new AssertionError("cannot start " + String.join(" ", command) + ": " + e.getMessage(), e);
        }
        CompletableFuture<String> out = drain(p.getInputStream());
        CompletableFuture<String> err = drain(p.getErrorStream());
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                throw new AssertionError("timed out after " + timeout + ": " + String.join(" ", command)
                        + "\n--- stdout:\n" + out.getNow("") + "\n--- stderr:\n" + err.getNow(""));
            }
            return new Result(p.exitValue(), out.get(10, TimeUnit.SECONDS), err.get(10, TimeUnit.SECONDS), command);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while running " + String.join(" ", command), e);
        } catch (ExecutionException | TimeoutException e) {
            throw new AssertionError("cannot read the output of " + String.join(" ", command), e);
        }
    }

    /**
     * Fails (never skips) with a message naming every missing program and the Debian package that provides it. Tests
     * call it first so that a machine without the real peers reports that plainly instead of an obscure error.
     */
    public static void require(String... programs) {
        List<String> missing = new ArrayList<>();
        for (String program : programs) {
            if (which(program) == null) {
                missing.add(program + " (package " + PACKAGES.getOrDefault(program, "?") + ")");
            } else if (program.equals("nbdsh")) {
                Result python = run(Duration.ofSeconds(30), "python3", "-c", "import nbd");
                if (!python.ok()) {
                    missing.add("nbdsh: the python3 'nbd' module (package python3-libnbd): " + python.stderr().trim());
                }
            }
        }
        if (!missing.isEmpty()) {
            throw new AssertionError("required programs are missing: " + String.join(", ", missing)
                    + "; install them with apt-get (see shared/reference/test-rig.md)");
        }
    }

    /** The executable named {@code program} on the tools' PATH, or null. */
    public static Path which(String program) {
        for (String dir : effectivePath().split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, program);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    /**
     * The command with its program looked up on the tools' PATH: Java searches the JVM's own PATH, not the one
     * given to the child, so without this a user-installed python3 would still win.
     */
    static List<String> resolve(List<String> command) {
        String program = command.get(0);
        if (program.indexOf('/') >= 0) {
            return command;
        }
        Path found = which(program);
        if (found == null) {
            return command;
        }
        List<String> out = new ArrayList<>(command);
        out.set(0, found.toString());
        return out;
    }

    /** Puts the system directories first on PATH (see the class comment). Used for every peer process too. */
    static void prepareEnvironment(Map<String, String> environment) {
        environment.put("PATH", effectivePath());
        // keep tool output stable and parseable
        environment.put("LC_ALL", "C");
    }

    private static String effectivePath() {
        String inherited = System.getenv("PATH");
        return inherited == null || inherited.isEmpty() ? SYSTEM_PATH : SYSTEM_PATH + File.pathSeparator + inherited;
    }

    private static CompletableFuture<String> drain(InputStream in) {
        CompletableFuture<String> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try (in) {
                f.complete(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                f.completeExceptionally(new UncheckedIOException(e));
            }
        }, "tool-output");
        t.setDaemon(true);
        t.start();
        return f;
    }
}
