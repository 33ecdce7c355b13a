package io.mpathnbd.server.containers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mpathnbd.testing.peers.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One compose file of docker/ run as a user runs it ({@code docker-compose -p PROJECT -f FILE ...}), under a project
 * name of the test's own so that a rig a user has up is never touched.
 */
final class ComposeProject {
    private static final Logger LOG = LoggerFactory.getLogger(ComposeProject.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final String project;
    private final Map<String, String> env;

    /**
     * @param project lower-case letters and digits only, so that compose keeps it as is in resource names
     * @param env variables of the docker-compose process, which the file may substitute (MPATH_ADMIN_TOKEN)
     */
    ComposeProject(Path file, String project, Map<String, String> env) {
        if (!project.matches("[a-z0-9]+")) {
            throw new IllegalArgumentException("project name must be lower-case letters and digits: " + project);
        }
        this.file = file;
        this.project = project;
        this.env = Map.copyOf(env);
    }

    Tools.Result run(Duration timeout, String... args) {
        List<String> cmd = new ArrayList<>(List.of("docker-compose", "--ansi", "never", "-p", project,
                "-f", file.toString()));
        cmd.addAll(List.of(args));
        LOG.info("{}", String.join(" ", cmd));
        return Tools.run(timeout, env, cmd.toArray(String[]::new));
    }

    /** {@code docker-compose exec -T SERVICE CMD...}: the command inside the service's running container. */
    Tools.Result exec(String service, String... cmd) {
        List<String> args = new ArrayList<>(List.of("exec", "-T", service));
        args.addAll(List.of(cmd));
        return run(Duration.ofSeconds(60), args.toArray(String[]::new));
    }

    String containerId(String service) {
        String id = run(Duration.ofSeconds(30), "ps", "-q", service).assertOk().stdout().trim();
        if (id.isEmpty()) {
            throw new AssertionError("service " + service + " of " + file + " has no container");
        }
        return id;
    }

    /**
     * Waits until Docker calls {@code service}'s container healthy (the image's HEALTHCHECK passed), at most
     * {@code timeout}; fails with the last checks' output otherwise.
     */
    void awaitHealthy(String service, Duration timeout) throws InterruptedException {
        String id = containerId(service);
        long deadline = System.nanoTime() + timeout.toNanos();
        String state;
        do {
            state = Tools.run(Duration.ofSeconds(30), "docker", "inspect", "-f", "{{.State.Health.Status}}", id)
                    .assertOk().stdout().trim();
            if (state.equals("healthy")) {
                return;
            }
            Thread.sleep(500);
        } while (System.nanoTime() < deadline);
        String log = Tools.run(Duration.ofSeconds(30), "docker", "inspect", "-f", "{{json .State.Health.Log}}", id)
                .stdout();
        throw new AssertionError(service + " not healthy within " + timeout + " (" + state + "): " + log);
    }

    /** The IP address of {@code service}'s container on the file's network {@code network}. */
    String address(String service, String network) {
        String id = containerId(service);
        String json = Tools.run(Duration.ofSeconds(30), "docker", "inspect", "-f", "{{json .NetworkSettings.Networks}}",
                id).assertOk().stdout();
        JsonNode networks;
        try {
            networks = JSON.readTree(json);
        } catch (IOException e) {
            throw new AssertionError("docker inspect printed no JSON: " + json, e);
        }
        String ip = networks.path(project + "_" + network).path("IPAddress").asText("");
        if (ip.isEmpty()) {
            throw new AssertionError(service + " has no address on network " + network + ": " + json);
        }
        return ip;
    }

    /** Saves every service's log as {build dir}/container-logs/{name}. */
    void saveLogs(String name) {
        try {
            Tools.Result logs = run(Duration.ofSeconds(60), "logs", "--no-color");
            String testLog = System.getProperty("mpath.test.log");
            Path dir = (testLog == null ? Path.of("target") : Path.of(testLog).toAbsolutePath().getParent())
                    .resolve("container-logs");
            Files.createDirectories(dir);
            Files.writeString(dir.resolve(name), logs.stdout() + logs.stderr());
            LOG.info("compose logs: {}", dir.resolve(name));
        } catch (IOException | RuntimeException | AssertionError e) {
            LOG.warn("cannot save the compose logs: {}", e.toString());
        }
    }

    /** Fails unless 127.0.0.1:{@code port} is free: the rig publishes there; {@code hint} says how to free it. */
    static void requirePortFree(int port, String hint) {
        try (java.net.ServerSocket s = new java.net.ServerSocket()) {
            s.bind(new java.net.InetSocketAddress("127.0.0.1", port));
        } catch (IOException e) {
            throw new AssertionError("127.0.0.1:" + port + " is in use, and the rig publishes there (" + hint + ")", e);
        }
    }
}
