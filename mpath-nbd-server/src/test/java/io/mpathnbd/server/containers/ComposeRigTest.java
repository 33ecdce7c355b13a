package io.mpathnbd.server.containers;

import static io.mpathnbd.server.containers.ContainerRig.EXPORT;
import static io.mpathnbd.server.containers.RigAdmin.state;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.server.cli.Main;
import io.mpathnbd.testing.peers.Tools;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * docker/compose.yaml as a user runs it with Debian's docker-compose: the rig comes up with its NBD port on
 * 127.0.0.1:10809 and admin API on 127.0.0.1:9810, a client on this host writes and reads the disk, and
 * {@code mpath-nbd status} shows a paused backend fail and come back.
 */
class ComposeRigTest {
    private static final Logger LOG = LoggerFactory.getLogger(ComposeRigTest.class);
    private static final String NBD = "nbd://127.0.0.1:10809/" + EXPORT;
    private static final String ADMIN = "127.0.0.1:9810";

    @Test
    void defaultRigServesTheDiskAndShowsAFailoverInStatus() throws Exception {
        RigImages.require();
        Tools.require("docker-compose", "qemu-io", "nbdinfo");
        requireFree(10809);
        requireFree(9810);
        Path repo = SourceHash.repositoryRoot();
        String project = "mpathnbdtest" + ProcessHandle.current().pid();
        Compose compose = new Compose(repo, project);
        try {
            compose.run(Duration.ofSeconds(120), "up", "-d").assertOk();
            RigAdmin admin = new RigAdmin("127.0.0.1", 9810);
            awaitAdmin(admin);
            admin.await(EXPORT, v -> v.path("ready").asBoolean()
                    && ContainerRig.BACKENDS.stream().allMatch(b -> state(v, b).equals("live")),
                    Duration.ofSeconds(60), "disk0 ready over nbd-a and nbd-b");

            assertEquals("1073741824",
                    Tools.run(Duration.ofSeconds(30), "nbdinfo", "--size", NBD).assertOk().stdout().trim());
            Tools.run(Duration.ofSeconds(60), "qemu-io", "-f", "raw", "-c", "write -P 0x5a 0 4M",
                    "-c", "read -P 0x5a 0 4M", NBD).assertOk();
            String healthy = status();
            assertTrue(healthy.contains("nbd-a") && healthy.contains("nbd-b"), healthy);

            compose.run(Duration.ofSeconds(30), "pause", "nbd-a").assertOk();
            // I/O while nbd-a hangs: served over nbd-b once the gateway gives up on nbd-a
            CompletableFuture<Tools.Result> io = CompletableFuture.supplyAsync(() -> Tools.run(Duration.ofSeconds(90),
                    "qemu-io", "-f", "raw", "-c", "write -P 0xa5 4M 8M", "-c", "read -P 0xa5 4M 8M",
                    "-c", "read -P 0x5a 0 4M", NBD));
            admin.await(EXPORT, v -> !state(v, "nbd-a").equals("live"), Duration.ofSeconds(30),
                    "nbd-a to leave the live state while paused");
            String failed = status();
            LOG.info("mpath-nbd status with nbd-a paused:\n{}", failed);
            io.get().assertOk();

            compose.run(Duration.ofSeconds(30), "unpause", "nbd-a").assertOk();
            admin.await(EXPORT, v -> state(v, "nbd-a").equals("live"), Duration.ofSeconds(30),
                    "nbd-a reinstated after unpause");
            String back = status();
            LOG.info("mpath-nbd status after unpause:\n{}", back);
            assertTrue(admin.export(EXPORT).path("failovers").asLong() >= 1, back);
        } finally {
            compose.saveLogs();
            compose.run(Duration.ofSeconds(120), "down", "-v", "--timeout", "5");
        }
    }

    /** {@code mpath-nbd status --admin 127.0.0.1:9810}, in this JVM. */
    private static String status() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), "status", "--admin", ADMIN);
        assertEquals(0, code, err.toString());
        return out.toString();
    }

    private static void awaitAdmin(RigAdmin admin) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try {
                admin.health();
                return;
            } catch (AssertionError notYet) {
                if (System.nanoTime() > deadline) {
                    throw notYet;
                }
                Thread.sleep(200);
            }
        }
    }

    private static void requireFree(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", port));
        } catch (IOException e) {
            throw new AssertionError("127.0.0.1:" + port + " is in use, and docker/compose.yaml publishes the rig "
                    + "there (is the rig already up? docker-compose -f docker/compose.yaml down)", e);
        }
    }

    /** docker-compose -p PROJECT -f docker/compose.yaml ... */
    private record Compose(Path repo, String project) {
        Tools.Result run(Duration timeout, String... args) {
            List<String> cmd = new ArrayList<>(List.of("docker-compose", "--no-ansi", "-p", project,
                    "-f", repo.resolve("docker/compose.yaml").toString()));
            cmd.addAll(List.of(args));
            LOG.info("{}", String.join(" ", cmd));
            return Tools.run(timeout, cmd.toArray(String[]::new));
        }

        void saveLogs() {
            try {
                Tools.Result logs = run(Duration.ofSeconds(60), "logs", "--no-color");
                String testLog = System.getProperty("mpath.test.log");
                Path dir = (testLog == null ? Path.of("target") : Path.of(testLog).toAbsolutePath().getParent())
                        .resolve("container-logs");
                Files.createDirectories(dir);
                Files.writeString(dir.resolve("compose-rig.log"), logs.stdout() + logs.stderr());
            } catch (IOException | RuntimeException | AssertionError e) {
                LOG.warn("cannot save the compose logs: {}", e.toString());
            }
        }
    }
}
