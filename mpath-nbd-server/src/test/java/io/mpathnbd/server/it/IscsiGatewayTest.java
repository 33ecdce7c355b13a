package io.mpathnbd.server.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mpathnbd.core.path.PathState;
import io.mpathnbd.server.FioLoad;
import io.mpathnbd.server.Gateway;
import io.mpathnbd.server.config.GatewayConfig;
import io.mpathnbd.testing.Tgtd;
import io.mpathnbd.testing.peers.Images;
import io.mpathnbd.testing.peers.QemuNbd;
import io.mpathnbd.testing.peers.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A gateway whose export reaches a real tgtd LUN through two portals (127.0.0.1 and 127.0.0.2, one iSCSI session
 * each): real NBD clients round-trip data checked on the LUN's image file; fio with crc32c verification sees no error
 * while every connection is cut on the target, while the target is offline, and while tgtd is stopped (each load
 * running until the test has seen the failure and both paths carrying I/O again);
 * and an export may mix NBD and iSCSI paths to one disk when its identity is configured.
 */
class IscsiGatewayTest {
    private static final Logger LOG = LoggerFactory.getLogger(IscsiGatewayTest.class);
    private static final long SIZE = 64L << 20;
    private static final Duration EVENT = Duration.ofSeconds(60);
    private static final long SOME = 200;
    /** Short iSCSI timeouts so a hung target's tasks are given up quickly (abort, then drop the connection). */
    private static final String ISCSI = "  iopolicy: round-robin\niscsi:\n  abort-timeout: 500ms\n  nop-interval: 1s\n"
            + "  nop-timeout: 2s\n";

    @Test
    void realClientsRoundTripThroughTwoIscsiPaths(@TempDir Path dir) throws Exception {
        Tools.require("nbdinfo", "qemu-io", "qemu-img", "nbdcopy");
        Path image = Images.sparse(dir, "lun.img", SIZE);
        try (Tgtd tgtd = Tgtd.start(image);
                GatewayRig rig = GatewayRig.start(ISCSI, List.of(tgtd.uri(0), tgtd.uri(1)))) {
            String uri = rig.uri();
            Tools.Result info = Tools.run(GatewayRig.TOOL_TIMEOUT, "nbdinfo", "--json", uri).assertOk();
            assertTrue(info.stdout().contains("\"export-size\": " + SIZE), info.stdout());
            assertEquals(2, tgtd.connections().size(), "two sessions on the target: " + tgtd.connections());

            Tools.run(GatewayRig.TOOL_TIMEOUT, "qemu-io", "-f", "raw", "-c", "write -P 0xab 0 1M",
                    "-c", "write -P 0xcd 5M 3M", "-c", "flush", "-c", "read -P 0xab 0 1M", "-c", "read -P 0xcd 5M 3M",
                    uri).assertOk();
            byte[] expected = new byte[4096];
            java.util.Arrays.fill(expected, (byte) 0xcd);
            assertArrayEquals(expected, Images.read(image, 5L << 20, 4096), "the bytes are on the LUN's image");

            Path source = dir.resolve("source.img");
            Files.write(source, Images.pattern(42, (int) SIZE));
            Tools.run(GatewayRig.TOOL_TIMEOUT, "nbdcopy", source.toString(), uri).assertOk();
            Tools.run(GatewayRig.TOOL_TIMEOUT, "qemu-img", "compare", "-f", "raw", "-F", "raw",
                    source.toString(), uri).assertOk();
            Path back = dir.resolve("back.img");
            Tools.run(GatewayRig.TOOL_TIMEOUT, "qemu-img", "convert", "-f", "raw", "-O", "raw", uri,
                    back.toString()).assertOk();
            assertEquals(-1L, Files.mismatch(source, back));
            Tools.run(GatewayRig.TOOL_TIMEOUT, "sync").assertOk();
            assertEquals(-1L, Files.mismatch(source, image), "the LUN's image holds what was copied in");
            assertTrue(rig.path(0).requests() > 0 && rig.path(1).requests() > 0, rig.describePaths());

            // operators see the LUN's identity (export and paths) and each path's own description
            JsonNode export = adminGet(rig, "/api/exports/disk");
            String identity = export.path("identity").asText();
            assertTrue(identity.startsWith("naa."), export.toString());
            for (JsonNode p : export.path("paths")) {
                assertEquals(identity, p.path("identity").asText(), p.toString());
                assertTrue(p.path("description").asText().contains(identity), p.toString());
            }
        }
    }

    private static JsonNode adminGet(GatewayRig rig, String path) throws Exception {
        java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:"
                        + rig.gateway().adminAddress().getPort() + path)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body());
    }

    @Test
    void fioSeesNoErrorWhileEveryConnectionIsCut(@TempDir Path dir) throws Exception {
        Path image = Images.sparse(dir, "lun.img", SIZE);
        try (Tgtd tgtd = Tgtd.start(image);
                GatewayRig rig = GatewayRig.start(ISCSI, List.of(tgtd.uri(0), tgtd.uri(1)));
                FioLoad fio = FioLoad.start(dir, "iscsi-failover", rig.uri(), SIZE / 2)) {
            for (int i = 0; i < 3; i++) {
                rig.awaitCarrying(0, SOME, EVENT);
                rig.awaitCarrying(1, SOME, EVENT);
                long failures = rig.export().pathFailures();
                LOG.info("cutting every connection on the target ({})", tgtd.connections().size());
                tgtd.dropConnections();
                rig.awaitPathFailureAfter(failures, EVENT);
                rig.awaitAllLive(EVENT);
            }
            rig.awaitCarrying(0, SOME, EVENT);
            rig.awaitCarrying(1, SOME, EVENT);
            finish(fio);
            assertTrue(rig.export().failovers() >= 1, "failovers were counted");
        }
    }

    @Test
    void fioSeesNoErrorWhileTheTargetIsOfflineAndBack(@TempDir Path dir) throws Exception {
        Path image = Images.sparse(dir, "lun.img", SIZE);
        try (Tgtd tgtd = Tgtd.start(image);
                GatewayRig rig = GatewayRig.start(ISCSI, List.of(tgtd.uri(0), tgtd.uri(1)));
                FioLoad fio = FioLoad.start(dir, "iscsi-failover", rig.uri(), SIZE / 2)) {
            rig.awaitCarrying(0, SOME, EVENT);
            rig.awaitCarrying(1, SOME, EVENT);
            LOG.info("setting the target offline");
            tgtd.offline();
            rig.awaitState(0, PathState.FAILED, EVENT);
            LOG.info("setting the target online again");
            tgtd.online();
            rig.awaitAllLive(EVENT);
            rig.awaitCarrying(0, SOME, EVENT);
            rig.awaitCarrying(1, SOME, EVENT);
            finish(fio);
        }
    }

    @Test
    void fioSeesNoErrorWhileTgtdIsStopped(@TempDir Path dir) throws Exception {
        Path image = Images.sparse(dir, "lun.img", SIZE);
        try (Tgtd tgtd = Tgtd.start(image);
                GatewayRig rig = GatewayRig.start(ISCSI, List.of(tgtd.uri(0), tgtd.uri(1)));
                FioLoad fio = FioLoad.start(dir, "iscsi-failover", rig.uri(), SIZE / 2)) {
            rig.awaitCarrying(0, SOME, EVENT);
            rig.awaitCarrying(1, SOME, EVENT);
            long failures = rig.export().pathFailures();
            LOG.info("stopping tgtd (SIGSTOP)");
            tgtd.stop();
            // the hung target is noticed (task abort, then NOP-Out timeout) while fio's requests wait on it
            rig.awaitPathFailureAfter(failures, EVENT);
            LOG.info("resuming tgtd (SIGCONT)");
            tgtd.resume();
            rig.awaitAllLive(EVENT);
            rig.awaitCarrying(0, SOME, EVENT);
            rig.awaitCarrying(1, SOME, EVENT);
            finish(fio);
        }
    }

    @Test
    void anExportMixesNbdAndIscsiPathsWhenItsIdentityIsConfigured(@TempDir Path dir) throws Exception {
        Tools.require("qemu-nbd", "qemu-io");
        Path image = Images.sparse(dir, "lun.img", SIZE);
        try (Tgtd tgtd = Tgtd.start(image);
                QemuNbd nbd = QemuNbd.builder().image(image).exportName("disk").dir(dir.resolve("q")).shared(8)
                        .start()) {
            String identity = identityOf(tgtd, dir);
            String yaml = "listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\n"
                    + "defaults: {io-timeout: 1s, connect-timeout: 2s, reconnect-min: 50ms, reconnect-max: 500ms,"
                    + " iopolicy: round-robin}\n"
                    + "exports:\n  - name: disk\n    identity: \"" + identity + "\"\n    paths:\n"
                    + "      - " + tgtd.uri(0) + "\n      - " + nbd.uri() + "\n";
            try (Gateway g = Gateway.start(GatewayConfig.parse(yaml))) {
                GatewayRig.await(Duration.ofSeconds(20), () -> g.export("disk").ready() && g.export("disk").paths()
                        .stream().allMatch(p -> p.state() == PathState.LIVE), () -> "paths not live: "
                        + g.export("disk").paths().stream().map(p -> p.id() + "=" + p.state() + " " + p.lastError())
                                .toList());
                String uri = "nbd://127.0.0.1:" + g.nbdAddress().getPort() + "/disk";
                // both paths write the same image (tgt's LUN and qemu-nbd's file), read back through both
                Tools.run(GatewayRig.TOOL_TIMEOUT, "qemu-io", "-f", "raw", "-t", "none", "-c", "write -P 0x5e 0 4M",
                        "-c", "flush", "-c", "read -P 0x5e 0 4M", uri).assertOk();
                byte[] expected = new byte[4096];
                java.util.Arrays.fill(expected, (byte) 0x5e);
                assertArrayEquals(expected, Images.read(image, 3L << 20, 4096));
                assertTrue(g.export("disk").paths().stream().allMatch(p -> p.requests() > 0),
                        "both the iSCSI and the NBD path carried I/O");
                assertEquals(identity, g.export("disk").identity());
            }
        }
    }

    /** The LUN's identity as a gateway without a configured identity sees it (the operator would copy it). */
    private static String identityOf(Tgtd tgtd, Path dir) throws Exception {
        try (GatewayRig rig = GatewayRig.start(null, List.of(tgtd.uri(1)))) {
            String id = rig.export().identity();
            assertTrue(id != null && id.startsWith("naa."), "identity " + id);
            return id;
        }
    }

    private static void finish(FioLoad fio) {
        JsonNode job = fio.stop();
        LOG.info("fio: worst completion latency {} ms", FioLoad.worstLatencyMillis(job));
    }
}
