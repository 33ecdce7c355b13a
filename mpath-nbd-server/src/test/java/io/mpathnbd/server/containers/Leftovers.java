package io.mpathnbd.server.containers;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.ListVolumesResponse;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.Network;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes containers, networks and volumes that container tests of a JVM no longer alive left behind. Ryuk (the
 * Testcontainers reaper) cannot run here, so a killed test run would otherwise leave its rig running. Everything a
 * test creates carries {@link #PID_LABEL}; resources of a live JVM (another build running tests) are left alone.
 */
final class Leftovers {
    static final String PID_LABEL = "io.mpathnbd.test.pid";
    private static final Logger LOG = LoggerFactory.getLogger(Leftovers.class);

    private Leftovers() {
    }

    /** The labels every test resource carries. */
    static Map<String, String> labels() {
        return Map.of(PID_LABEL, Long.toString(ProcessHandle.current().pid()));
    }

    static void removeStale(DockerClient docker) {
        List<Container> containers = docker.listContainersCmd().withShowAll(true)
                .withLabelFilter(List.of(PID_LABEL)).exec();
        for (Container c : containers) {
            if (stale(c.getLabels())) {
                LOG.info("removing container {} ({}) left by an earlier test run", c.getId(), c.getImage());
                docker.removeContainerCmd(c.getId()).withForce(true).withRemoveVolumes(true).exec();
            }
        }
        for (Network n : docker.listNetworksCmd().withFilter("label", List.of(PID_LABEL)).exec()) {
            if (stale(n.getLabels())) {
                LOG.info("removing network {} left by an earlier test run", n.getName());
                docker.removeNetworkCmd(n.getId()).exec();
            }
        }
        ListVolumesResponse volumes = docker.listVolumesCmd().withFilter("label", List.of(PID_LABEL)).exec();
        if (volumes.getVolumes() != null) {
            volumes.getVolumes().stream().filter(v -> stale(v.getLabels())).forEach(v -> {
                LOG.info("removing volume {} left by an earlier test run", v.getName());
                docker.removeVolumeCmd(v.getName()).exec();
            });
        }
    }

    private static boolean stale(Map<String, String> labels) {
        String pid = labels == null ? null : labels.get(PID_LABEL);
        if (pid == null) {
            return false;
        }
        try {
            return ProcessHandle.of(Long.parseLong(pid)).map(p -> !p.isAlive()).orElse(true);
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
