package io.mpathnbd.server.containers;

import static io.mpathnbd.server.containers.ContainerRig.EXPORT;
import static io.mpathnbd.server.containers.RigAdmin.requests;
import static io.mpathnbd.server.containers.RigAdmin.state;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
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
    private static final int FIO_SECONDS = 25;

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
    void pausedBackendIsInvisibleToTheClient() {
        survive("nbd-a", "docker pause", () -> rig.pause("nbd-a"), () -> rig.unpause("nbd-a"));
    }

    @Test
    void killedAndRestartedBackendIsInvisibleToTheClient() {
        survive("nbd-b", "docker kill", () -> rig.kill("nbd-b"), () -> rig.restart("nbd-b"));
    }

    @Test
    void backendCutOffTheNetworkIsInvisibleToTheClient() {
        survive("nbd-a", "docker network disconnect", () -> rig.disconnect("nbd-a"), () -> rig.reconnect("nbd-a"));
    }

    private void survive(String backend, String fault, Runnable breakIt, Runnable repair) {
        String other = ContainerRig.BACKENDS.stream().filter(b -> !b.equals(backend)).findFirst().orElseThrow();
        RigAdmin admin = rig.admin();
        long failoversBefore = admin.export(EXPORT).path("failovers").asLong();

        HostFio fio = HostFio.start(rig.nbdUri(), FIO_SECONDS);
        sleep(3000);
        assertTrue(fio.running(), "fio ended early");
        breakIt.run();
        JsonNode broken = admin.await(EXPORT, v -> !state(v, backend).equals("live"), Duration.ofSeconds(20),
                backend + " to leave the live state after " + fault);
        LOG.info("after {} of {}: {}", fault, backend, RigAdmin.summary(broken));
        assertFalse(RigAdmin.path(broken, backend).path("last-error").asText("").isBlank(),
                "the admin API must say why " + backend + " is " + state(broken, backend) + ": " + broken);

        // I/O goes on over the other path while this one is down
        long otherBefore = requests(broken, other);
        sleep(3000);
        JsonNode down = admin.export(EXPORT);
        assertEquals("live", state(down, other), RigAdmin.summary(down));
        assertTrue(requests(down, other) > otherBefore, "no I/O over " + other + " while " + backend + " was down: "
                + RigAdmin.summary(down));
        assertTrue(down.path("ready").asBoolean(), "export not ready with one path live: " + down);

        repair.run();
        JsonNode back = admin.await(EXPORT, v -> state(v, backend).equals("live"), Duration.ofSeconds(30),
                backend + " to be reinstated after undoing " + fault);
        LOG.info("{} undone: {}", fault, RigAdmin.summary(back));
        long atReinstatement = requests(back, backend);
        assertTrue(fio.running(), "fio ended before " + backend + " came back; the test cannot see it carry I/O");

        fio.assertNoClientErrors();
        JsonNode after = admin.export(EXPORT);
        assertTrue(requests(after, backend) > atReinstatement, "the reinstated path " + backend
                + " carried no I/O: " + RigAdmin.summary(after));
        assertTrue(after.path("failovers").asLong() > failoversBefore, "no failover counted for " + fault + ": "
                + after);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
