package io.mpathnbd.server.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mpathnbd.server.EventLoops;
import io.mpathnbd.server.FioLoad;
import io.mpathnbd.testing.peers.Images;
import io.mpathnbd.testing.peers.NbdServer;
import io.mpathnbd.testing.peers.Tools;
import io.netty.channel.epoll.Epoll;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gateway whose event loops busy-poll serves I/O correctly: fio-verified writes at QD1 and QD16 through two NBD
 * paths taken in turn, one connection each, so half the requests are handed to the other loop while it may be
 * spinning (a hand-off Netty does not signal to a spinning loop). The widest window keeps the loops spinning
 * as much as they ever do. No assertion depends on timing.
 */
class BusyPollGatewayTest {
    private static final long SIZE = 64L << 20;

    @TempDir
    Path dir;

    @BeforeAll
    static void tools() {
        Tools.require("nbd-server", "fio", "qemu-io");
    }

    @Test
    void spinningLoopsServeVerifiedIoThroughTwoPaths() throws Exception {
        assumeTrue(Epoll.isAvailable(), "busy-poll needs native epoll");
        Path image = Images.sparse(dir, "disk.img", SIZE);
        try (NbdServer a = NbdServer.start(dir.resolve("a"), "disk", image);
                NbdServer b = NbdServer.start(dir.resolve("b"), "disk", image);
                GatewayRig rig = GatewayRig.start("  iopolicy: round-robin\n  connections: 1\nbusy-poll: 1ms\n",
                        List.of(a.uri(), b.uri()))) {
            EventLoops loops = rig.gateway().eventLoops();
            assertEquals(Duration.ofMillis(1), loops.busyPoll());
            assertEquals(Runtime.getRuntime().availableProcessors(), loops.busyPollingLoops(),
                    "every worker loop busy-polls");

            JsonNode qd1 = GatewayRig.fioOk(Tools.run(GatewayRig.TOOL_TIMEOUT, "fio", "--name=qd1", "--ioengine=nbd",
                    "--uri=" + rig.uri(), "--rw=randwrite", "--bs=4k", "--iodepth=1", "--size=8m",
                    "--verify=crc32c", "--verify_fatal=1", "--verify_state_save=0", "--output-format=json"));
            assertEquals(8L << 20, qd1.path("write").path("io_bytes").asLong());

            try (FioLoad qd16 = FioLoad.start(dir, "qd16", rig.uri(), 16L << 20)) {
                rig.awaitCarrying(0, 500, Duration.ofSeconds(60));
                rig.awaitCarrying(1, 500, Duration.ofSeconds(60));
                qd16.stop();
            }

            Tools.Result rw = Tools.run(GatewayRig.TOOL_TIMEOUT, "qemu-io", "-f", "raw", "-c", "write -P 0x6b 32M 1M",
                    "-c", "read -P 0x6b 32M 1M", rig.uri()).assertOk();
            assertTrue(!rw.stdout().contains("failed"), rw.describe());
            byte[] expected = new byte[4096];
            Arrays.fill(expected, (byte) 0x6b);
            assertArrayEquals(expected, Images.read(image, (32L << 20) + 4096, 4096), "the data reached the image");

            assertTrue(rig.path(0).requests() > 0 && rig.path(1).requests() > 0, rig.describePaths());
            assertEquals(0, rig.path(0).errors() + rig.path(1).errors(), rig.describePaths());
        }
    }

    @Test
    void offByDefault() throws Exception {
        Path image = Images.sparse(dir, "disk.img", SIZE);
        try (GatewayRig rig = GatewayRig.start(null, List.of(image.toUri().toString()))) {
            EventLoops loops = rig.gateway().eventLoops();
            assertEquals(Duration.ZERO, loops.busyPoll());
            assertEquals(0, loops.busyPollingLoops());
        }
    }
}
