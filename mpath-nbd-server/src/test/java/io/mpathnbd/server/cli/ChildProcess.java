package io.mpathnbd.server.cli;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** The CLI's Main run in its own JVM (as {@code java -jar} would), with its output collected in files. */
final class ChildProcess implements AutoCloseable {
    private final Process process;
    private final Path outFile;
    private final Path errFile;

    private ChildProcess(Process process, Path outFile, Path errFile) {
        this.process = process;
        this.outFile = outFile;
        this.errFile = errFile;
    }

    static ChildProcess start(Path workDir, String... args) throws IOException {
        return start(workDir, List.of(), args);
    }

    /** @param jvmOptions extra options of the child JVM, e.g. system properties */
    static ChildProcess start(Path workDir, List<String> jvmOptions, String... args) throws IOException {
        return start(workDir, jvmOptions, Map.of(), args);
    }

    /** @param env variables added to the child's environment */
    static ChildProcess start(Path workDir, List<String> jvmOptions, Map<String, String> env, String... args)
            throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Dio.netty.leakDetection.level=paranoid");
        cmd.addAll(jvmOptions);
        // the product's logging config, not the test-jar's logback-test.xml
        cmd.add("-Dlogback.configurationFile=logback.xml");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.addAll(List.of(args));
        // output to files: reading pipes races with the JVM closing them when the child exits
        Path outFile = Files.createTempFile(workDir, "child-", ".out");
        Path errFile = Files.createTempFile(workDir, "child-", ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(outFile.toFile())
                .redirectError(errFile.toFile());
        pb.environment().put("MPATH_LOG_LEVEL", "INFO");
        pb.environment().putAll(env);
        return new ChildProcess(pb.start(), outFile, errFile);
    }

    /** Waits until stdout or stderr satisfies {@code condition}; fails with both outputs otherwise. */
    void awaitOutput(String what, Duration timeout, Predicate<String> condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.test(out() + err())) {
            if (!process.isAlive()) {
                fail("the process ended (exit " + process.exitValue() + ") before " + what + "\n" + describe());
            }
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what + "\n" + describe());
            }
            Thread.sleep(50);
        }
    }

    /** The child's process id, e.g. to send it a signal. */
    long pid() {
        return process.pid();
    }

    /** Sends SIGTERM (like Ctrl-C for the shutdown hook) and waits for the exit; returns the exit code. */
    int terminate(Duration timeout) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            fail("did not stop within " + timeout + " after SIGTERM\n" + describe());
        }
        return process.exitValue();
    }

    int waitFor(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            fail("did not finish within " + timeout + "\n" + describe());
        }
        return process.exitValue();
    }

    String out() {
        return read(outFile);
    }

    String err() {
        return read(errFile);
    }

    private static String read(Path f) {
        try {
            return Files.readString(f, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(cannot read " + f + ": " + e + ")";
        }
    }

    String describe() {
        return "--- stdout:\n" + out() + "--- stderr:\n" + err();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
    }
}
