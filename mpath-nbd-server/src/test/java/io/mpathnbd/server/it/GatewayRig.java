package io.mpathnbd.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mpathnbd.core.export.Export;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.path.PathState;
import io.mpathnbd.server.Gateway;
import io.mpathnbd.server.config.GatewayConfig;
import io.mpathnbd.testing.peers.Tools;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;

/** An in-process gateway over real backends, with the helpers the end-to-end tests share. */
final class GatewayRig implements AutoCloseable {
    static final Duration TOOL_TIMEOUT = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Gateway gateway;

    private GatewayRig(Gateway gateway) {
        this.gateway = gateway;
    }

    /**
     * Starts a gateway exporting {@code disk} over the given path URIs, with short timeouts so failures are seen
     * quickly, and waits until every path is live.
     */
    static GatewayRig start(String extraDefaults, List<String> pathUris) throws Exception {
        GatewayRig rig = start(extraDefaults, null, pathUris);
        rig.awaitAllLive(Duration.ofSeconds(20));
        return rig;
    }

    /**
     * Starts a gateway like {@link #start(String, List)} with {@code topLevel} (whole YAML lines, e.g. a
     * {@code backend-tls:} section) added, without waiting for any path.
     */
    static GatewayRig start(String extraDefaults, String topLevel, List<String> pathUris) throws Exception {
        StringBuilder yaml = new StringBuilder()
                .append("listen: 127.0.0.1:0\n")
                .append("admin: 127.0.0.1:0\n")
                .append("defaults:\n")
                .append("  io-timeout: 1s\n")
                .append("  connect-timeout: 2s\n")
                .append("  reconnect-min: 50ms\n")
                .append("  reconnect-max: 500ms\n")
                .append("  no-path-timeout: 20s\n")
                .append("  probe-interval: 1s\n");
        if (extraDefaults == null || !extraDefaults.contains("fence-delay:")) {
            yaml.append("  fence-delay: 100ms\n"); // unless the test sets its own
        }
        if (extraDefaults != null) {
            yaml.append(extraDefaults);
        }
        if (topLevel != null) {
            yaml.append(topLevel);
        }
        yaml.append("exports:\n  - name: disk\n    paths:\n");
        for (String uri : pathUris) {
            yaml.append("      - ").append(uri).append('\n');
        }
        return new GatewayRig(Gateway.start(GatewayConfig.parse(yaml.toString())));
    }

    Gateway gateway() {
        return gateway;
    }

    Export export() {
        return gateway.export("disk");
    }

    String uri() {
        return "nbd://127.0.0.1:" + gateway.nbdAddress().getPort() + "/disk";
    }

    Path path(int index) {
        return export().paths().get(index);
    }

    void awaitAllLive(Duration timeout) {
        await(timeout, () -> export().ready() && export().paths().stream().allMatch(p -> p.state() == PathState.LIVE),
                () -> "paths not all live: " + describePaths());
    }

    void awaitState(int index, PathState state, Duration timeout) {
        await(timeout, () -> path(index).state() == state,
                () -> "path " + index + " not " + state + ": " + describePaths());
    }

    String describePaths() {
        StringBuilder sb = new StringBuilder();
        for (Path p : export().paths()) {
            sb.append(p.id()).append('=').append(p.state()).append(" errors=").append(p.errors())
                    .append(" last-error=").append(p.lastError()).append("; ");
        }
        return sb.toString();
    }

    static void await(Duration timeout, BooleanSupplier condition, java.util.function.Supplier<String> message) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail(message.get());
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted");
            }
        }
    }

    /**
     * Waits until path {@code index} has carried {@code more} requests beyond those it had when called: the load is
     * going over it now.
     */
    void awaitCarrying(int index, long more, Duration timeout) {
        long from = path(index).requests();
        await(timeout, () -> path(index).state() == PathState.LIVE && path(index).requests() >= from + more,
                () -> "path " + index + " did not carry " + more + " more requests: " + describePaths());
    }

    /** Waits until the export has counted a path failure beyond {@code before} (see {@link Export#pathFailures}). */
    void awaitPathFailureAfter(long before, Duration timeout) {
        await(timeout, () -> export().pathFailures() > before,
                () -> "no path failure counted beyond " + before + ": " + describePaths());
    }

    /** Runs fio against the gateway and returns its first job's JSON, after checking it ran without errors. */
    static JsonNode fioOk(Tools.Result result) throws Exception {
        JsonNode root = fioJson(result);
        JsonNode job = root.path("jobs").path(0);
        assertTrue(result.ok() && job.path("error").asInt(-1) == 0,
                () -> "fio reported errors:\n" + result.describe());
        return job;
    }

    static JsonNode fioJson(Tools.Result result) throws Exception {
        String out = result.stdout();
        int start = out.indexOf('{');
        if (start < 0) {
            fail("fio printed no JSON:\n" + result.describe());
        }
        return JSON.readTree(out.substring(start));
    }

    @Override
    public void close() {
        gateway.close();
    }
}
