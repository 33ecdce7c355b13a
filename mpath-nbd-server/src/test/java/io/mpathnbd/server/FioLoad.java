package io.mpathnbd.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mpathnbd.testing.peers.Tools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * fio as a load that runs until the test stops it: 4 KiB random writes at queue depth 16 through an NBD URI, every
 * block checked (crc32c) while the run goes on, the first bad block fatal. A test starts it, waits for the events it
 * is about (a path carrying I/O, failing, coming back), then {@link #stop}s it and gets the job's report; a load with
 * a fixed runtime could end before a slow machine got there. The runtime cap only ends a load whose test hung.
 */
public final class FioLoad implements AutoCloseable {
    /** Ends the load if the test never stops it; every test stops it long before. */
    static final Duration CAP = Duration.ofMinutes(20);
    /** fio ends its jobs and writes its report on SIGTERM; this is how long that may take. */
    private static final Duration STOP_WAIT = Duration.ofSeconds(120);
    /** fio's exit status when a signal ended it (the stop asked for). */
    private static final int STOPPED_BY_SIGNAL = 128;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final Path report;
    private final Path log;
    private final String name;

    private FioLoad(Process process, Path report, Path log, String name) {
        this.process = process;
        this.report = report;
        this.log = log;
        this.name = name;
    }

    /** Starts the load on {@code uri} over its first {@code size} bytes; its report and log go to {@code dir}. */
    public static FioLoad start(Path dir, String name, String uri, long size) {
        return start(dir, name, uri, size, java.util.Map.of());
    }

    /** As {@link #start(Path, String, String, long)}, with extra environment (e.g. HOME for libnbd's TLS files). */
    public static FioLoad start(Path dir, String name, String uri, long size, java.util.Map<String, String> env) {
        Tools.require("fio");
        Path report = dir.resolve(name + "-fio.json");
        Path log = dir.resolve(name + "-fio.log");
        List<String> cmd = List.of("fio", "--name=" + name, "--ioengine=nbd", "--uri=" + uri, "--rw=randwrite",
                "--bs=4k", "--iodepth=16", "--size=" + size, "--time_based", "--runtime=" + CAP.toSeconds(),
                "--verify=crc32c", "--verify_backlog=256", "--verify_fatal=1", "--verify_state_save=0",
                "--output-format=json", "--output=" + report);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("PATH", "/usr/local/bin:/usr/bin:/bin:" + System.getenv("PATH"));
        pb.environment().putAll(env);
        try {
            return new FioLoad(pb.start(), report, log, name);
        } catch (IOException e) {
            throw new AssertionError("cannot start fio: " + e, e);
        }
    }

    public boolean running() {
        return process.isAlive();
    }

    /**
     * Stops the load and asserts the client saw nothing wrong: it was still running (an error ends fio early), it
     * ended on the stop, no job error, data written and verified. Returns the job's JSON.
     */
    public JsonNode stop() {
        if (!process.isAlive()) {
            throw new AssertionError("fio " + name + " ended before the test stopped it (exit " + process.exitValue()
                    + "): " + text(log) + text(report));
        }
        process.destroy(); // SIGTERM: fio finishes its jobs and writes the report
        try {
            if (!process.waitFor(STOP_WAIT.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("fio " + name + " did not stop within " + STOP_WAIT + ": " + text(log));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
        int exit = process.exitValue();
        String out = text(report);
        if (exit != 0 && exit != STOPPED_BY_SIGNAL) {
            throw new AssertionError("fio " + name + " failed (exit " + exit + "): " + text(log) + out);
        }
        JsonNode job;
        try {
            // fio writes a "terminating on signal" note before the JSON document
            int start = out.indexOf('{');
            job = JSON.readTree(out.substring(Math.max(0, start))).path("jobs").path(0);
        } catch (IOException e) {
            throw new AssertionError("fio " + name + " wrote no JSON report: " + out + text(log), e);
        }
        if (job.path("error").asInt(-1) != 0) {
            throw new AssertionError("fio " + name + " job error " + job.path("error") + ": " + text(log) + out);
        }
        if (job.path("write").path("io_bytes").asLong() <= 0 || job.path("read").path("io_bytes").asLong() <= 0) {
            throw new AssertionError("fio " + name + " wrote or verified nothing: " + out);
        }
        return job;
    }

    /**
     * Waits for the load to end by itself, as it does on the first error the test provoked, and returns its log and
     * report; fails if it is still running after {@code timeout}.
     */
    public String awaitEnd(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("fio " + name + " still running after " + timeout + ": " + text(log));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
        return "exit " + process.exitValue() + text(log) + text(report);
    }

    /** Worst completion latency in a job's report, in milliseconds, over reads and writes. */
    public static double worstLatencyMillis(JsonNode job) {
        double read = job.path("read").path("clat_ns").path("max").asDouble(0);
        double write = job.path("write").path("clat_ns").path("max").asDouble(0);
        return Math.max(read, write) / 1e6;
    }

    private static String text(Path file) {
        try {
            return Files.exists(file) ? "\n" + Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "\n(cannot read " + file + ": " + e + ")";
        }
    }

    /** Ends fio if the test did not stop it (it failed meanwhile). */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
    }
}
