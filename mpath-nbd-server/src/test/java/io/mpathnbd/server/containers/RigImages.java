package io.mpathnbd.server.containers;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import java.util.Map;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.images.ImagePullPolicy;
import org.testcontainers.utility.DockerImageName;

/**
 * The images of the container rigs (built by {@code scripts/docker-build}) and the checks every container test runs
 * first. Where something is missing the test FAILS with what to do: a machine without Docker must not pass these
 * tests silently.
 */
final class RigImages {
    static final String GATEWAY = "mpath-nbd:local";
    static final String NBD_SERVER = "mpath-nbd-nbd-server:local";
    static final String TGTD = "mpath-nbd-tgtd:local";

    /** The images are local only: never pulled (no registry is reachable on the machines this project runs on). */
    static final ImagePullPolicy NEVER_PULL = image -> false;

    private static final String HOW_TO = "scripts/test prepares both; by hand: "
            + "`source scripts/lib/docker-engine.sh && ensure_docker_engine && scripts/docker-build`";

    private static volatile boolean checked;

    private RigImages() {
    }

    static DockerImageName gateway() {
        return DockerImageName.parse(GATEWAY);
    }

    static DockerImageName nbdServer() {
        return DockerImageName.parse(NBD_SERVER);
    }

    static DockerImageName tgtd() {
        return DockerImageName.parse(TGTD);
    }

    /**
     * Fails unless Testcontainers is set up for this machine, a Docker engine answers, the images exist, and the
     * gateway image holds the jar of this source tree.
     */
    static synchronized void require() {
        if (checked) {
            return;
        }
        // Testcontainers reads these from the environment only; the module's surefire configuration sets them.
        requireEnv("TESTCONTAINERS_RYUK_DISABLED", "true",
                "Ryuk's image cannot be pulled without a registry");
        requireEnv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1",
                "this machine looks like a container to Testcontainers, which would then reach mapped ports "
                        + "through the Docker network's gateway address instead of loopback");
        if (!DockerClientFactory.instance().isDockerAvailable()) {
            throw new AssertionError("NOT RUN: no Docker engine answers, and the container tests need one. " + HOW_TO);
        }
        DockerClient docker = DockerClientFactory.instance().client();
        Map<String, String> labels = labelsOf(docker, GATEWAY);
        labelsOf(docker, NBD_SERVER);
        labelsOf(docker, TGTD);
        String built = labels == null ? null : labels.get("io.mpathnbd.source");
        String current = SourceHash.of(SourceHash.repositoryRoot());
        if (!current.equals(built)) {
            throw new AssertionError("image " + GATEWAY + " was built from other sources (its io.mpathnbd.source is "
                    + built + ", this tree's is " + current + "): run scripts/docker-build");
        }
        Leftovers.removeStale(docker);
        checked = true;
    }

    private static Map<String, String> labelsOf(DockerClient docker, String image) {
        try {
            return docker.inspectImageCmd(image).exec().getConfig().getLabels();
        } catch (NotFoundException e) {
            throw new AssertionError("image " + image + " is missing. " + HOW_TO, e);
        }
    }

    private static void requireEnv(String name, String value, String why) {
        if (!value.equals(System.getenv(name))) {
            throw new AssertionError("set " + name + "=" + value + " for the container tests (" + why + "); "
                    + "mpath-nbd-server's surefire configuration does, an IDE run must too");
        }
    }
}
