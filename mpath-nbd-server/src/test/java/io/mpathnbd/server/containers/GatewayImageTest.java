package io.mpathnbd.server.containers;

import static io.mpathnbd.server.containers.ContainerRig.ADMIN_PORT;
import static io.mpathnbd.server.containers.ContainerRig.EXPORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mpathnbd.testing.peers.Tools;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;

/**
 * The gateway image itself: configuration from the environment, a non-root user, Docker's HEALTHCHECK against the
 * admin API, the {@code mpath-nbd} command inside the container, and a clear refusal when given nothing to serve.
 */
class GatewayImageTest {

    @Test
    void configuredFromTheEnvironmentRunsAsNonRootAndBecomesHealthy() throws Exception {
        try (ContainerRig rig = ContainerRig.start("image-env", g -> g
                .withEnv("MPATH_EXPORTS", EXPORT + "=nbd://nbd-a:10809/disk0,nbd://nbd-b:10809/disk0")
                .withEnv("MPATH_IOPOLICY", "queue-depth")
                // Docker's own health status, from the image's HEALTHCHECK
                .waitingFor(Wait.forHealthcheck().withStartupTimeout(Duration.ofSeconds(90))))) {
            GenericContainer<?> gateway = rig.gateway();

            // inline paths get generated ids: look at the states only
            JsonNode export = rig.admin().await(EXPORT, v -> v.path("paths").size() == 2
                    && v.path("paths").findValuesAsText("state").stream().allMatch("live"::equals),
                    Duration.ofSeconds(30), "both paths live");
            assertEquals("queue-depth", export.path("iopolicy").asText(), export.toString());
            List<String> uris = new ArrayList<>();
            export.path("paths").forEach(p -> uris.add(p.path("uri").asText()));
            assertEquals(List.of("nbd://nbd-a:10809/disk0", "nbd://nbd-b:10809/disk0"), uris);
            assertEquals(200, rig.admin().health());

            assertEquals("mpath", gateway.getContainerInfo().getConfig().getUser());
            ExecResult id = gateway.execInContainer("id", "-u");
            assertNotEquals("0", id.getStdout().trim(), "the gateway must not run as root");

            ExecResult status = gateway.execInContainer("mpath-nbd", "status");
            assertEquals(0, status.getExitCode(), status.getStderr());
            assertTrue(status.getStdout().contains("nbd://nbd-a:10809/disk0")
                    && status.getStdout().contains("nbd://nbd-b:10809/disk0"), status.getStdout());

            ExecResult health = gateway.execInContainer("mpath-nbd-healthcheck");
            assertEquals(0, health.getExitCode(), health.getStdout());

            Tools.Result size = Tools.run(Duration.ofSeconds(30), "nbdinfo", "--size", rig.nbdUri()).assertOk();
            assertEquals("1073741824", size.stdout().trim());
        }
    }

    @Test
    void healthCheckFailsWhileAnExportHasNoUsablePath() throws Exception {
        RigImages.require();
        try (GenericContainer<?> gateway = new GenericContainer<>(RigImages.gateway())
                .withImagePullPolicy(RigImages.NEVER_PULL)
                .withLabels(Leftovers.labels())
                .withEnv("MPATH_EXPORTS", "lonely=nbd://no-such-backend.invalid:10809/disk0")
                .withExposedPorts(ADMIN_PORT)
                .waitingFor(Wait.forHttp("/health").forPort(ADMIN_PORT).forStatusCode(503)
                        .withStartupTimeout(Duration.ofSeconds(60)))) {
            gateway.start();
            ExecResult health = gateway.execInContainer("mpath-nbd-healthcheck");
            assertEquals(1, health.getExitCode(), health.getStdout() + health.getStderr());
            assertTrue(health.getStdout().contains("503"), health.getStdout());
        }
    }

    @Test
    void refusesToStartWithNothingToServe() {
        RigImages.require();
        Tools.require("docker");
        Tools.Result r = Tools.run(Duration.ofSeconds(60), "docker", "run", "--rm",
                "--label", Leftovers.PID_LABEL + "=" + Leftovers.labels().get(Leftovers.PID_LABEL),
                RigImages.GATEWAY);
        assertEquals(2, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("nothing to serve: set MPATH_EXPORTS"), r.describe());
    }

    @Test
    void otherCommandsGoToMpathNbd() {
        RigImages.require();
        Tools.Result r = Tools.run(Duration.ofSeconds(60), Map.of(), "docker", "run", "--rm",
                "--label", Leftovers.PID_LABEL + "=" + Leftovers.labels().get(Leftovers.PID_LABEL),
                RigImages.GATEWAY, "--version");
        assertEquals(0, r.exitCode(), r.describe());
        assertTrue(!r.stdout().isBlank(), r.describe());
    }
}
