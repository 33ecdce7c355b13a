package io.mpathnbd.server.containers;

import static io.mpathnbd.server.containers.ContainerRig.EXPORT;
import static io.mpathnbd.server.containers.RigAdmin.requests;
import static io.mpathnbd.server.containers.RigAdmin.state;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mpathnbd.server.FioLoad;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The default rig in containers (the gateway with docker/rig/gateway.yaml, two nbd-server backends on one volume)
 * under fio from this host, verifying every block it writes, while a backend is hung (docker pause), killed (docker
 * kill) or cut off the network (docker network disconnect) and then brought back: fio sees no error at all, the
 * admin API shows the broken path leave the live state with a reason, and the path is reinstated and carries I/O
 * again.
 */
class ContainerFailoverTest {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerFailoverTest.class);
    private static final Duration EVENT = Duration.ofSeconds(60);
    private static final long SOME = 200;

    @TempDir
    static Path dir;

    private static ContainerRig rig;

    @BeforeAll
    static void startRig() throws IOException {
        String yaml = Files.readString(SourceHash.repositoryRoot().resolve("docker/rig/gateway.yaml"));
        rig = ContainerRig.startWithConfig("failover", yaml);
    }

    @AfterAll
    static void stopRig() {
        if (rig != null) {
            rig.close();
        }
    }

    @BeforeEach
    void everyPathLive() {
        rig.admin().await(EXPORT, v -> v.path("ready").asBoolean() && ContainerRig.BACKENDS.stream()
                .allMatch(b -> state(v, b).equals("live")), Duration.ofSeconds(30), "every path live");
    }

    @Test
    void pausedBackendIsInvisibleToTheClient() throws IOException {
        survive("nbd-a", "docker pause", () -> rig.pause("nbd-a"), () -> rig.unpause("nbd-a"));
    }

    @Test
    void killedAndRestartedBackendIsInvisibleToTheClient() throws IOException {
        survive("nbd-b", "docker kill", () -> rig.kill("nbd-b"), () -> rig.restart("nbd-b"));
    }

    @Test
    void backendCutOffTheNetworkIsInvisibleToTheClient() throws IOException {
        survive("nbd-a", "docker network disconnect", () -> rig.disconnect("nbd-a"), () -> rig.reconnect("nbd-a"));
    }

    private void survive(String backend, String fault, Runnable breakIt, Runnable repair) throws IOException {
        String other = ContainerRig.BACKENDS.stream().filter(b -> !b.equals(backend)).findFirst().orElseThrow();
        RigAdmin admin = rig.admin();
        long failuresBefore = admin.export(EXPORT).path("path-failures").asLong();
        JsonNode start = admin.export(EXPORT);

        try (FioLoad fio = FioLoad.start(dir, "containers", rig.nbdUri(), 128L << 20)) {
            admin.await(EXPORT, v -> requests(v, backend) > requests(start, backend) + SOME
                    && requests(v, other) > requests(start, other) + SOME, EVENT, "fio's I/O on both paths");
            breakIt.run();
            JsonNode broken = admin.await(EXPORT, v -> !state(v, backend).equals("live"), EVENT,
                    backend + " to leave the live state after " + fault);
            LOG.info("after {} of {}: {}", fault, backend, RigAdmin.summary(broken));
            assertFalse(RigAdmin.path(broken, backend).path("last-error").asText("").isBlank(),
                    "the admin API must say why " + backend + " is " + state(broken, backend) + ": " + broken);

            // I/O goes on over the other path while this one is down
            long otherBefore = requests(broken, other);
            JsonNode down = admin.await(EXPORT, v -> requests(v, other) > otherBefore + SOME, EVENT,
                    "I/O over " + other + " while " + backend + " is down");
            assertEquals("live", state(down, other), RigAdmin.summary(down));
            assertTrue(down.path("ready").asBoolean(), "export not ready with one path live: " + down);

            repair.run();
            JsonNode back = admin.await(EXPORT, v -> state(v, backend).equals("live"), EVENT,
                    backend + " to be reinstated after undoing " + fault);
            LOG.info("{} undone: {}", fault, RigAdmin.summary(back));
            long atReinstatement = requests(back, backend);
            admin.await(EXPORT, v -> requests(v, backend) > atReinstatement + SOME, EVENT,
                    "the reinstated path " + backend + " carrying I/O");
            fio.stop();
        }
        JsonNode after = admin.export(EXPORT);
        // path-failures, not failovers: a killed server may go with nothing in flight on it (every reply sent
        // before the kill), and then no request fails over although the path did fail
        assertTrue(after.path("path-failures").asLong() > failuresBefore, "no path failure counted for " + fault
                + ": " + after);
    }
}
