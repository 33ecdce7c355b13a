package io.mpathnbd.server.containers;

import static io.mpathnbd.server.containers.ContainerRig.EXPORT;
import static io.mpathnbd.server.containers.RigAdmin.state;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.testing.peers.Tools;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * docker/compose.yaml as a user runs it with Debian's docker-compose: the rig comes up with its NBD port on
 * 127.0.0.1:10809 and admin API on 127.0.0.1:9810 (its token from MPATH_ADMIN_TOKEN, which the health check uses
 * too), a client on this host writes and reads the disk, and {@code mpath-nbd status} shows a paused backend fail
 * and come back.
 */
class ComposeRigTest {
    private static final Logger LOG = LoggerFactory.getLogger(ComposeRigTest.class);
    private static final String NBD = "nbd://127.0.0.1:10809/" + EXPORT;
    private static final String HINT = "is the rig already up? docker-compose -f docker/compose.yaml down";

    @Test
    void defaultRigServesTheDiskAndShowsAFailoverInStatus() throws Exception {
        RigImages.require();
        Tools.require("docker-compose", "qemu-io", "nbdinfo");
        ComposeProject.requirePortFree(10809, HINT);
        ComposeProject.requirePortFree(9810, HINT);
        Path repo = SourceHash.repositoryRoot();
        String project = "mpathnbdtest" + ProcessHandle.current().pid();
        String token = "compose-rig-token-" + java.util.UUID.randomUUID();
        ComposeProject compose = new ComposeProject(repo.resolve("docker/compose.yaml"), project,
                java.util.Map.of("MPATH_ADMIN_TOKEN", token));
        try {
            compose.run(Duration.ofSeconds(120), "up", "-d").assertOk();
            RigAdmin admin = new RigAdmin("127.0.0.1", 9810, token);
            admin.awaitUp();
            assertEquals(401, admin.statusAs("/api/exports", null), "the rig's admin API needs its token");
            admin.await(EXPORT, v -> v.path("ready").asBoolean()
                    && ContainerRig.BACKENDS.stream().allMatch(b -> state(v, b).equals("live")),
                    Duration.ofSeconds(60), "disk0 ready over nbd-a and nbd-b");
            assertEquals(200, admin.statusAs("/health", token));

            assertEquals("1073741824",
                    Tools.run(Duration.ofSeconds(30), "nbdinfo", "--size", NBD).assertOk().stdout().trim());
            Tools.run(Duration.ofSeconds(60), "qemu-io", "-f", "raw", "-c", "write -P 0x5a 0 4M",
                    "-c", "read -P 0x5a 0 4M", NBD).assertOk();
            String healthy = admin.status();
            assertTrue(healthy.contains("nbd-a") && healthy.contains("nbd-b"), healthy);
            compose.awaitHealthy("gateway", Duration.ofSeconds(60));

            compose.run(Duration.ofSeconds(30), "pause", "nbd-a").assertOk();
            // I/O while nbd-a hangs: served over nbd-b once the gateway gives up on nbd-a
            CompletableFuture<Tools.Result> io = CompletableFuture.supplyAsync(() -> Tools.run(Duration.ofSeconds(90),
                    "qemu-io", "-f", "raw", "-c", "write -P 0xa5 4M 8M", "-c", "read -P 0xa5 4M 8M",
                    "-c", "read -P 0x5a 0 4M", NBD));
            admin.await(EXPORT, v -> !state(v, "nbd-a").equals("live"), Duration.ofSeconds(30),
                    "nbd-a to leave the live state while paused");
            String failed = admin.status();
            LOG.info("mpath-nbd status with nbd-a paused:\n{}", failed);
            io.get().assertOk();

            compose.run(Duration.ofSeconds(30), "unpause", "nbd-a").assertOk();
            admin.await(EXPORT, v -> state(v, "nbd-a").equals("live"), Duration.ofSeconds(30),
                    "nbd-a reinstated after unpause");
            String back = admin.status();
            LOG.info("mpath-nbd status after unpause:\n{}", back);
            assertTrue(admin.export(EXPORT).path("failovers").asLong() >= 1, back);
        } finally {
            compose.saveLogs("compose-rig.log");
            compose.run(Duration.ofSeconds(120), "down", "-v", "--timeout", "5");
        }
    }
}
