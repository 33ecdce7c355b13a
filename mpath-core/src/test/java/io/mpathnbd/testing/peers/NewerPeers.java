package io.mpathnbd.testing.peers;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The NBD peers newer than Debian 12's that speak extended headers, installed by {@code scripts/newer-peers} beside
 * Debian 12's own (whose tests keep running): qemu 10 (qemu-io, qemu-img, qemu-nbd) unpacked under
 * {@code /opt/qemu10}, and libnbd 1.22 (nbdinfo, nbdsh, nbdcopy) with nbdkit 1.42 in the local image
 * {@value #TRIXIE_IMAGE}, run with the host's network so that it reaches servers on 127.0.0.1. The require methods
 * fail (never skip) when a peer is missing.
 */
public final class NewerPeers {
    /** The local Debian 13 image with libnbd 1.22 and nbdkit 1.42. */
    public static final String TRIXIE_IMAGE = "mpath-nbd-peers:trixie";
    private static final Path QEMU10 = Path.of(System.getenv().getOrDefault("MPATH_QEMU10_PREFIX", "/opt/qemu10"),
            "usr", "bin");

    private NewerPeers() {
    }

    /** The absolute path of a qemu 10 tool ("qemu-io", "qemu-img", "qemu-nbd"), after checking it is there. */
    public static String qemu10(String tool) {
        Path p = QEMU10.resolve(tool);
        if (!Files.isExecutable(p)) {
            throw new AssertionError(p + " is missing: qemu 10 comes from bookworm-backports; run scripts/newer-peers"
                    + " (scripts/test does)");
        }
        return p.toString();
    }

    /** Fails unless the trixie image is here. */
    public static void requireTrixie() {
        Tools.Result r = Tools.run(Duration.ofSeconds(60), "docker", "image", "inspect", "--format", "{{.Id}}",
                TRIXIE_IMAGE);
        if (!r.ok()) {
            throw new AssertionError("image " + TRIXIE_IMAGE + " is missing (" + r.stderr().trim()
                    + "): run scripts/newer-peers (scripts/test does)");
        }
    }

    /** Runs {@code command} (e.g. "nbdinfo", uri) in a throw-away trixie container on the host's network. */
    public static Tools.Result trixie(Duration timeout, String... command) {
        return trixieWith(List.of(), timeout, command);
    }

    /** As {@link #trixie}, with host directories visible read-only at the same paths (e.g. TLS certificates). */
    public static Tools.Result trixieWith(List<Path> mounts, Duration timeout, String... command) {
        List<String> cmd = new ArrayList<>(List.of("docker", "run", "--rm", "--network", "host", "-i"));
        for (Path m : mounts) {
            String dir = m.toAbsolutePath().toString();
            cmd.addAll(List.of("-v", dir + ":" + dir + ":ro"));
        }
        cmd.add(TRIXIE_IMAGE);
        cmd.addAll(List.of(command));
        return Tools.run(timeout, cmd.toArray(String[]::new));
    }
}
