package io.mpathnbd.server.containers;

import static io.mpathnbd.server.containers.ContainerRig.ADMIN_PORT;
import static io.mpathnbd.server.containers.ContainerRig.EXPORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mpathnbd.testing.peers.Tools;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.Transferable;

/**
 * The gateway image itself: configuration from the environment, a non-root user, an admin token (generated, given
 * or the operator's own) that Docker's HEALTHCHECK and the {@code mpath-nbd} command inside the container use and
 * a client outside needs, and a clear refusal when given nothing to serve.
 */
class GatewayImageTest {

    @Test
    void configuredFromTheEnvironmentRunsAsNonRootAndBecomesHealthy() throws Exception {
        try (ContainerRig rig = ContainerRig.start("image-env", (g, token) -> g
                .withEnv("MPATH_EXPORTS", EXPORT + "=nbd://nbd-a:10809/disk0,nbd://nbd-b:10809/disk0")
                .withEnv("MPATH_IOPOLICY", "queue-depth")
                // no token given: the entrypoint generates one
                .withEnv("MPATH_ADMIN_TOKEN", "")
                // Docker's own health status, from the image's HEALTHCHECK (which sends the generated token)
                .waitingFor(Wait.forHealthcheck().withStartupTimeout(Duration.ofSeconds(90))))) {
            GenericContainer<?> gateway = rig.gateway();
            String generated = rig.servedToken();
            assertTrue(generated != null && generated.length() >= 40 && !generated.equals(rig.token()),
                    "a generated token");
            assertTrue(gateway.getLogs().contains("generated an admin API token in " + ContainerRig.TOKEN_FILE),
                    gateway.getLogs());
            assertEquals(401, rig.admin().statusAs("/api/exports", null), "the admin API needs the token");
            assertEquals(401, rig.admin().statusAs("/health", rig.token()), "only the generated token is good");
            ExecResult perms = gateway.execInContainer("stat", "-c", "%a %U", ContainerRig.TOKEN_FILE);
            assertEquals("600 mpath", perms.getStdout().strip(), "the token file is the gateway user's alone");

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
            assertNoTokenShown(gateway, generated);
        }
    }

    @Test
    void aTokenGivenInTheEnvironmentOrAFileIsTheOneServed() throws Exception {
        try (ContainerRig rig = ContainerRig.start("image-token-env", (g, token) -> g
                .withEnv("MPATH_EXPORTS", EXPORT + "=nbd://nbd-a:10809/disk0")
                .waitingFor(Wait.forHealthcheck().withStartupTimeout(Duration.ofSeconds(90))))) {
            assertEquals(rig.token(), rig.servedToken());
            assertEquals(200, rig.admin().statusAs("/api/exports", rig.token()));
            assertEquals(401, rig.admin().statusAs("/api/exports", null));
            ExecResult status = rig.gateway().execInContainer("mpath-nbd", "status");
            assertEquals(0, status.getExitCode(), status.getStderr());
            assertNoTokenShown(rig.gateway(), rig.token());
        }
        String own = "operators-own-token-" + java.util.UUID.randomUUID();
        try (ContainerRig rig = ContainerRig.start("image-token-file", (g, token) -> g
                .withEnv("MPATH_EXPORTS", EXPORT + "=nbd://nbd-a:10809/disk0")
                .withEnv("MPATH_ADMIN_TOKEN", "")
                .withEnv("MPATH_ADMIN_TOKEN_FILE", "/etc/mpath-nbd/admin.token")
                .withCopyToContainer(Transferable.of((own + "\n").getBytes(StandardCharsets.US_ASCII), 0644),
                        "/etc/mpath-nbd/admin.token")
                .waitingFor(Wait.forHealthcheck().withStartupTimeout(Duration.ofSeconds(90))))) {
            assertEquals(200, rig.admin().statusAs("/api/exports", own));
            assertEquals(401, rig.admin().statusAs("/api/exports", rig.token()));
            ExecResult status = rig.gateway().execInContainer("mpath-nbd", "status");
            assertEquals(0, status.getExitCode(), status.getStderr());
            assertNoTokenShown(rig.gateway(), own);
        }
    }

    @Test
    void aMountedConfigWithItsOwnAdminAuthDecides() throws Exception {
        String yaml = "admin-auth:\n  open: all\nexports:\n  - name: " + EXPORT
                + "\n    paths: [nbd://nbd-a:10809/disk0]\n";
        try (ContainerRig rig = ContainerRig.start("image-own-auth", (g, token) -> g
                .withEnv("MPATH_ADMIN_TOKEN", "")
                .withCopyToContainer(Transferable.of(yaml.getBytes(StandardCharsets.UTF_8), 0644),
                        "/etc/mpath-nbd/config.yaml")
                .waitingFor(Wait.forHealthcheck().withStartupTimeout(Duration.ofSeconds(90))))) {
            assertEquals(200, rig.admin().statusAs("/api/exports", null), "open: all, as the file says");
            ExecResult noToken = rig.gateway().execInContainer("test", "-e", ContainerRig.TOKEN_FILE);
            assertEquals(1, noToken.getExitCode(), "no token generated beside the file's admin-auth");
            assertTrue(rig.gateway().getLogs().contains("reachable from other machines, without authentication"),
                    rig.gateway().getLogs());
        }
    }

    /** Neither the container's log nor Docker's record of its health checks holds the token. */
    private static void assertNoTokenShown(GenericContainer<?> gateway, String token) {
        String logs = gateway.getLogs();
        assertFalse(logs.contains(token), "the token in the container log:\n" + logs);
        var health = gateway.getCurrentContainerInfo().getState().getHealth();
        assertTrue(health != null && !health.getLog().isEmpty(), "no health check ran");
        for (var check : health.getLog()) {
            assertFalse(String.valueOf(check.getOutput()).contains(token), "the token in a health check: "
                    + check.getOutput());
        }
    }

    @Test
    void healthCheckFailsWhileAnExportHasNoUsablePath() throws Exception {
        RigImages.require();
        String token = "health-test-token-" + java.util.UUID.randomUUID();
        try (GenericContainer<?> gateway = new GenericContainer<>(RigImages.gateway())
                .withImagePullPolicy(RigImages.NEVER_PULL)
                .withLabels(Leftovers.labels())
                .withEnv("MPATH_EXPORTS", "lonely=nbd://no-such-backend.invalid:10809/disk0")
                .withEnv("MPATH_ADMIN_TOKEN", token)
                .withExposedPorts(ADMIN_PORT)
                .waitingFor(Wait.forHttp("/health").forPort(ADMIN_PORT).withHeader("Authorization", "Bearer " + token)
                        .forStatusCode(503).withStartupTimeout(Duration.ofSeconds(60)))) {
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
    void refusesATokenGivenTwice() {
        RigImages.require();
        Tools.Result r = Tools.run(Duration.ofSeconds(60), "docker", "run", "--rm",
                "--label", Leftovers.PID_LABEL + "=" + Leftovers.labels().get(Leftovers.PID_LABEL),
                "-e", "MPATH_EXPORTS=d=nbd://x:10809/d", "-e", "MPATH_ADMIN_TOKEN=one-token-0123456789",
                "-e", "MPATH_ADMIN_TOKEN_FILE=/etc/mpath-nbd/admin.token", RigImages.GATEWAY);
        assertEquals(2, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("set MPATH_ADMIN_TOKEN or MPATH_ADMIN_TOKEN_FILE, not both"), r.describe());
        assertFalse(r.stderr().contains("one-token-0123456789"), r.describe());
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
