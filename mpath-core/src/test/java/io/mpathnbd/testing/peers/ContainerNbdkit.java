package io.mpathnbd.testing.peers;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * nbdkit 1.42 (Debian 13, which does not implement extended headers) with the memory plugin, in a container of
 * {@link NewerPeers#TRIXIE_IMAGE} on the host's network: {@code nbdkit -f -i 127.0.0.1 -p PORT memory SIZE}. Closing
 * it removes the container.
 */
public final class ContainerNbdkit extends NbdPeer {
    private static final AtomicInteger SEQUENCE = new AtomicInteger();
    private final String container;

    private ContainerNbdkit(NbdPeer.Launched launched, String container) {
        super(launched.process(), launched.port(), "");
        this.container = container;
    }

    /** Starts it with a memory disk of {@code size} bytes; the docker log goes to {@code dir}. */
    public static ContainerNbdkit memory(Path dir, long size) {
        NewerPeers.requireTrixie();
        String name = "mpath-nbdkit142-" + ProcessHandle.current().pid() + "-" + SEQUENCE.incrementAndGet();
        Path log = PeerDirs.ensure(dir).resolve(name + ".log");
        NbdPeer.Launched launched = NbdPeer.launch(0, port -> PeerProcess.start("nbdkit-1.42", log,
                List.of("docker", "run", "--rm", "--network", "host", "--name", name, NewerPeers.TRIXIE_IMAGE,
                        "nbdkit", "-f", "-i", HOST, "-p", Integer.toString(port), "memory", Long.toString(size))));
        return new ContainerNbdkit(launched, name);
    }

    @Override
    public void close() {
        Tools.run(Duration.ofSeconds(60), "docker", "rm", "-f", container);
        super.close();
    }
}
