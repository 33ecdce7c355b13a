package io.mpathnbd.server.containers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mpathnbd.testing.peers.Tools;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * fio on this host against the rig's published NBD port, in the background while a test breaks paths: 4 KiB random
 * writes at queue depth 16, every block checked (crc32c) while the run goes on, the first bad block fatal.
 */
final class HostFio {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final CompletableFuture<Tools.Result> run;
    private final int seconds;

    private HostFio(CompletableFuture<Tools.Result> run, int seconds) {
        this.run = run;
        this.seconds = seconds;
    }

    static HostFio start(String uri, int seconds) {
        Tools.require("fio");
        String[] cmd = {"fio", "--name=containers", "--ioengine=nbd", "--uri=" + uri, "--rw=randwrite", "--bs=4k",
                "--iodepth=16", "--size=128M", "--time_based", "--runtime=" + seconds, "--verify=crc32c",
                "--verify_backlog=256", "--verify_fatal=1", "--output-format=json"};
        Duration limit = Duration.ofSeconds(seconds + 120L);
        return new HostFio(CompletableFuture.supplyAsync(() -> Tools.run(limit, cmd)), seconds);
    }

    boolean running() {
        return !run.isDone();
    }

    /**
     * Waits for fio and asserts the client saw nothing wrong: exit status 0, no job error, data written and
     * verified. Returns the job's JSON.
     */
    JsonNode assertNoClientErrors() {
        Tools.Result r;
        try {
            r = run.get(seconds + 150L, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("fio could not run", e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError("fio did not finish", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
        if (!r.ok()) {
            throw new AssertionError("fio saw an error: " + r.describe());
        }
        JsonNode job;
        try {
            // fio may print notes before the JSON document
            String out = r.stdout();
            job = JSON.readTree(out.substring(Math.max(0, out.indexOf('{')))).path("jobs").path(0);
        } catch (IOException e) {
            throw new AssertionError("fio printed no JSON: " + r.describe(), e);
        }
        if (job.path("error").asInt(-1) != 0) {
            throw new AssertionError("fio job error " + job.path("error") + ": " + r.describe());
        }
        if (job.path("write").path("io_bytes").asLong() <= 0 || job.path("read").path("io_bytes").asLong() <= 0) {
            throw new AssertionError("fio wrote or verified nothing: " + r.describe());
        }
        return job;
    }
}
