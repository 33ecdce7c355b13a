package io.mpathnbd.server.containers;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.ContainerNetwork;
import com.github.dockerjava.api.model.Volume;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.lifecycle.Startables;

/**
 * The default rig in containers, as docker/compose.yaml describes it: two nbd-server backends ({@code nbd-a},
 * {@code nbd-b}) serving one disk image from a shared volume on their own network, and the gateway exporting
 * {@code disk0} over both. The gateway's NBD and admin ports are mapped to loopback ports of this host; the admin
 * token is one of the rig's own in {@code MPATH_ADMIN_TOKEN} (unless the setup has the gateway generate one), and
 * {@link #admin()} uses the one the gateway serves with. Backends can be hung ({@code docker pause}), killed and
 * restarted, or cut off the network, as a real network fails them.
 */
final class ContainerRig implements AutoCloseable {
    static final String EXPORT = "disk0";
    static final List<String> BACKENDS = List.of("nbd-a", "nbd-b");
    static final int NBD_PORT = 10809;
    static final int ADMIN_PORT = 9810;
    /** Where the image's entrypoint keeps the token the gateway serves with (given or generated). */
    static final String TOKEN_FILE = "/run/mpath-nbd/admin.token";

    private static final Logger LOG = LoggerFactory.getLogger(ContainerRig.class);

    private final String name;
    private final DockerClient docker;
    private final Network network;
    private final String volume;
    private final Map<String, GenericContainer<?>> backends = new LinkedHashMap<>();
    private final GenericContainer<?> gateway;
    private final String token = "rig-token-" + UUID.randomUUID();
    private RigAdmin admin;

    private ContainerRig(String name, GatewaySetup setup) {
        RigImages.require();
        this.name = name;
        this.docker = DockerClientFactory.instance().client();
        this.network = Network.builder()
                .createNetworkCmdModifier(cmd -> cmd.withLabels(Leftovers.labels()))
                .build();
        this.volume = "mpath-nbd-test-" + UUID.randomUUID().toString().substring(0, 8);
        docker.createVolumeCmd().withName(volume).withLabels(Leftovers.labels()).exec();
        for (String backend : BACKENDS) {
            backends.put(backend, backend(backend));
        }
        this.gateway = setup.apply(new GenericContainer<>(RigImages.gateway())
                .withImagePullPolicy(RigImages.NEVER_PULL)
                .withNetwork(network)
                .withNetworkAliases("gateway")
                .withLabels(Leftovers.labels())
                .withEnv("MPATH_ADMIN_TOKEN", token)
                .withExposedPorts(NBD_PORT, ADMIN_PORT), token);
    }

    /** Where the gateway's configuration comes from, and how to wait for it; {@code token}: the rig's. */
    interface GatewaySetup {
        GenericContainer<?> apply(GenericContainer<?> gateway, String token);
    }

    /** The rig with this YAML mounted at /etc/mpath-nbd/config.yaml, started once /health says every export is ready. */
    static ContainerRig startWithConfig(String name, String yaml) {
        return start(name, (g, token) -> g
                .withCopyToContainer(Transferable.of(yaml.getBytes(StandardCharsets.UTF_8), 0644),
                        "/etc/mpath-nbd/config.yaml")
                .waitingFor(Wait.forHttp("/health").forPort(ADMIN_PORT)
                        .withHeader("Authorization", "Bearer " + token)
                        .forStatusCode(200).withStartupTimeout(Duration.ofSeconds(90))));
    }

    static ContainerRig start(String name, GatewaySetup setup) {
        ContainerRig rig = new ContainerRig(name, setup);
        try {
            long t0 = System.nanoTime();
            Startables.deepStart(rig.backends.values()).join();
            rig.gateway.start();
            rig.admin = new RigAdmin("127.0.0.1", rig.gateway.getMappedPort(ADMIN_PORT), rig.servedToken());
            LOG.info("rig {} up in {} ms: NBD {} admin {}", name, (System.nanoTime() - t0) / 1_000_000, rig.nbdUri(),
                    rig.admin.base());
            return rig;
        } catch (RuntimeException | Error e) {
            rig.close();
            throw e;
        }
    }

    private GenericContainer<?> backend(String alias) {
        return new GenericContainer<>(RigImages.nbdServer())
                .withImagePullPolicy(RigImages.NEVER_PULL)
                .withNetwork(network)
                .withNetworkAliases(alias)
                .withLabels(Leftovers.labels())
                .withEnv("NBD_EXPORT", EXPORT)
                .withEnv("NBD_SIZE", "1G")
                .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig()
                        .withBinds(new Bind(volume, new Volume("/data"))))
                .waitingFor(Wait.forLogMessage(".*nbd-backend: serving export.*", 1))
                .withStartupTimeout(Duration.ofSeconds(60));
    }

    /** nbd://127.0.0.1:PORT/disk0 on this host. */
    String nbdUri() {
        return "nbd://127.0.0.1:" + gateway.getMappedPort(NBD_PORT) + "/" + EXPORT;
    }

    RigAdmin admin() {
        return admin;
    }

    /**
     * The token the gateway serves with, as its entrypoint wrote it (the rig's, or one it generated); null when it
     * wrote none (a token file or an admin-auth section of the operator's own).
     */
    String servedToken() {
        try {
            var r = gateway.execInContainer("cat", TOKEN_FILE);
            return r.getExitCode() != 0 || r.getStdout().isBlank() ? null : r.getStdout().strip();
        } catch (java.io.IOException e) {
            throw new AssertionError("cannot read the gateway's admin token", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** The token this rig gave the gateway in MPATH_ADMIN_TOKEN. */
    String token() {
        return token;
    }

    GenericContainer<?> gateway() {
        return gateway;
    }

    /** docker pause: the backend hangs with its connections open. */
    void pause(String backend) {
        LOG.info("docker pause {}", backend);
        docker.pauseContainerCmd(id(backend)).exec();
    }

    void unpause(String backend) {
        LOG.info("docker unpause {}", backend);
        docker.unpauseContainerCmd(id(backend)).exec();
    }

    /** docker kill (SIGKILL): the backend and its connections die. */
    void kill(String backend) {
        LOG.info("docker kill {}", backend);
        docker.killContainerCmd(id(backend)).exec();
    }

    /** docker start of a killed backend: same container, same volume, same network alias. */
    void restart(String backend) {
        LOG.info("docker start {}", backend);
        docker.startContainerCmd(id(backend)).exec();
    }

    /** docker network disconnect: the backend vanishes from the network, packets to it go nowhere. */
    void disconnect(String backend) {
        LOG.info("docker network disconnect {}", backend);
        docker.disconnectFromNetworkCmd().withNetworkId(network.getId()).withContainerId(id(backend)).exec();
    }

    /** docker network connect, with the alias the gateway knows it by. */
    void reconnect(String backend) {
        LOG.info("docker network connect {}", backend);
        docker.connectToNetworkCmd().withNetworkId(network.getId()).withContainerId(id(backend))
                .withContainerNetwork(new ContainerNetwork().withAliases(backend)).exec();
    }

    private String id(String backend) {
        GenericContainer<?> c = backends.get(backend);
        if (c == null) {
            throw new IllegalArgumentException("no backend " + backend + " (have " + backends.keySet() + ")");
        }
        return c.getContainerId();
    }

    /** Saves every container's log under the build directory, then removes containers, network and volume. */
    @Override
    public void close() {
        List<GenericContainer<?>> all = new ArrayList<>(backends.values());
        all.add(0, gateway);
        for (GenericContainer<?> c : all) {
            saveLog(c);
        }
        for (GenericContainer<?> c : all) {
            try {
                c.stop();
            } catch (RuntimeException e) {
                LOG.warn("stopping {} failed: {}", c.getDockerImageName(), e.toString());
            }
        }
        try {
            network.close();
        } catch (RuntimeException e) {
            LOG.warn("removing network failed: {}", e.toString());
        }
        try {
            docker.removeVolumeCmd(volume).exec();
        } catch (RuntimeException e) {
            LOG.warn("removing volume {} failed: {}", volume, e.toString());
        }
    }

    private void saveLog(GenericContainer<?> c) {
        if (c.getContainerId() == null) {
            return;
        }
        String alias = c == gateway ? "gateway" : c.getNetworkAliases().stream()
                .filter(BACKENDS::contains).findFirst().orElse("container");
        Path file = logDirectory().resolve(name + "-" + alias + ".log");
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, c.getLogs());
            LOG.info("{} log: {}", alias, file);
        } catch (IOException | RuntimeException e) {
            LOG.warn("cannot save the log of {}: {}", alias, e.toString());
        }
    }

    /** {build dir}/container-logs: surefire names the test log file inside the build directory. */
    private static Path logDirectory() {
        String testLog = System.getProperty("mpath.test.log");
        Path buildDir = testLog == null ? Path.of("target") : Path.of(testLog).toAbsolutePath().getParent();
        return buildDir.resolve("container-logs");
    }
}
