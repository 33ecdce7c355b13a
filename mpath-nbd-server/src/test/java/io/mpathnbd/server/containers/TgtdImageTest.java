package io.mpathnbd.server.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;

/**
 * The tgtd (iSCSI) backend image for the iSCSI rigs to come: it creates its disk image, serves it as LUN 1 of one
 * target on every portal it is given, and those portals accept connections through mapped ports.
 */
class TgtdImageTest {

    @Test
    void servesTheImageAsLunOneOnEveryPortal() throws Exception {
        RigImages.require();
        try (GenericContainer<?> tgtd = new GenericContainer<>(RigImages.tgtd())
                .withImagePullPolicy(RigImages.NEVER_PULL)
                .withLabels(Leftovers.labels())
                .withEnv("TGT_IQN", "iqn.2024-01.io.mpathnbd:test")
                .withEnv("TGT_SIZE", "64M")
                .withEnv("TGT_PORTALS", "0.0.0.0:3260,0.0.0.0:3261")
                .withExposedPorts(3260, 3261)
                .waitingFor(Wait.forLogMessage(".*tgtd-backend: serving .*", 1)
                        .withStartupTimeout(Duration.ofSeconds(60)))) {
            tgtd.start();

            String targets = tgtadm(tgtd, "--op", "show", "--mode", "target");
            assertTrue(targets.contains("Target 1: iqn.2024-01.io.mpathnbd:test"), targets);
            int lun1 = targets.indexOf("LUN: 1");
            assertTrue(lun1 > 0, targets);
            String lun = targets.substring(lun1);
            assertTrue(lun.contains("Type: disk") && lun.contains("Size: 67 MB")
                    && lun.contains("Backing store path: /data/disk0.img"), lun);
            assertTrue(targets.contains("ALL"), "the target must accept every initiator: " + targets);

            String portals = tgtadm(tgtd, "--op", "show", "--mode", "portal");
            assertTrue(portals.contains("0.0.0.0:3260") && portals.contains("0.0.0.0:3261"), portals);
            for (int port : new int[] {3260, 3261}) {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress("127.0.0.1", tgtd.getMappedPort(port)), 5000);
                } catch (IOException e) {
                    throw new AssertionError("portal " + port + " does not accept connections", e);
                }
            }
        }
    }

    private static String tgtadm(GenericContainer<?> tgtd, String... args) throws Exception {
        String[] cmd = new String[args.length + 3];
        cmd[0] = "tgtadm";
        cmd[1] = "--lld";
        cmd[2] = "iscsi";
        System.arraycopy(args, 0, cmd, 3, args.length);
        ExecResult r = tgtd.execInContainer(cmd);
        assertEquals(0, r.getExitCode(), r.getStderr());
        return r.getStdout();
    }
}
