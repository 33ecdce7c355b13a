package io.mpathnbd.server.containers;

import static io.mpathnbd.server.containers.RigAdmin.requests;
import static io.mpathnbd.server.containers.RigAdmin.state;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mpathnbd.server.FioLoad;
import io.mpathnbd.testing.peers.Tools;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * docker/compose-iscsi.yaml as a user runs it: tgtd serves one LUN on two portals, each reached over its own network,
 * and the gateway exports disk0 over both as iSCSI paths on 127.0.0.1:10819 (admin 127.0.0.1:9819). Under fio with
 * crc32c verification from this host, the target cuts portal-b's connection ({@code tgtadm --op delete --mode conn}
 * inside the container): the client sees no error, and the admin API shows the path failing and coming back (a new
 * session on the target, live, carrying requests again).
 */
class IscsiComposeRigTest {
    private static final Logger LOG = LoggerFactory.getLogger(IscsiComposeRigTest.class);
    private static final String EXPORT = "disk0";
    private static final String NBD = "nbd://127.0.0.1:10819/" + EXPORT;
    private static final String HINT = "is it already up? docker-compose -p mpath-iscsi -f docker/compose-iscsi.yaml down";
    private static final String CUT = "portal-b";
    /** Bound on each event the test waits for, generous for a fresh machine; the load runs until the test stops it. */
    private static final Duration EVENT = Duration.ofSeconds(60);

    @Test
    void iscsiRigKeepsVerifiedIoWhileOnePortalIsCut(@TempDir Path dir) throws Exception {
        RigImages.require();
        Tools.require("docker-compose", "docker", "fio", "nbdinfo");
        ComposeProject.requirePortFree(10819, HINT);
        ComposeProject.requirePortFree(9819, HINT);
        String token = "iscsi-rig-token-" + java.util.UUID.randomUUID();
        ComposeProject compose = new ComposeProject(SourceHash.repositoryRoot().resolve("docker/compose-iscsi.yaml"),
                "mpathnbdiscsi" + ProcessHandle.current().pid(), java.util.Map.of("MPATH_ADMIN_TOKEN", token));
        FioLoad fio = null;
        try {
            compose.run(Duration.ofSeconds(120), "up", "-d").assertOk();
            RigAdmin admin = new RigAdmin("127.0.0.1", 9819, token);
            admin.awaitUp();
            assertEquals(401, admin.statusAs("/api/exports", null), "the rig's admin API needs its token");
            admin.await(EXPORT, v -> v.path("ready").asBoolean() && state(v, "portal-a").equals("live")
                    && state(v, CUT).equals("live"), Duration.ofSeconds(60), "disk0 ready over both portals");
            compose.awaitHealthy("gateway", Duration.ofSeconds(60));
            assertEquals("1073741824",
                    Tools.run(Duration.ofSeconds(30), "nbdinfo", "--size", NBD).assertOk().stdout().trim());

            // portal-b runs over san-b: its session is the one from the gateway's san-b address
            String sanB = compose.address("gateway", "san-b");
            fio = FioLoad.start(dir, "iscsi-rig", NBD, 128L << 20);
            JsonNode before = admin.await(EXPORT, v -> requests(v, "portal-a") > 500 && requests(v, CUT) > 500,
                    EVENT, "fio's I/O on both paths");
            List<Connection> cut = connections(compose).stream().filter(c -> c.address().equals(sanB)).toList();
            assertEquals(1, cut.size(), "one session from the gateway's san-b address " + sanB + ": "
                    + connections(compose));
            for (Connection c : cut) {
                compose.exec("tgt", "tgtadm", "--lld", "iscsi", "--op", "delete", "--mode", "conn", "--tid", "1",
                        "--sid", Long.toString(c.sid()), "--cid", Long.toString(c.cid())).assertOk();
            }
            long failures = before.path("path-failures").asLong();
            // the gateway counts the path's failure (its requests in flight go over portal-a)
            JsonNode noticed = admin.await(EXPORT, v -> v.path("path-failures").asLong() > failures,
                    EVENT, "the gateway to count portal-b's failure after its cut");
            LOG.info("after the cut: {}", RigAdmin.summary(noticed));

            Set<Long> cutSessions = cut.stream().map(Connection::sid).collect(Collectors.toSet());
            awaitNewSession(compose, sanB, cutSessions, EVENT);
            JsonNode back = admin.await(EXPORT, v -> state(v, CUT).equals("live"), EVENT, "portal-b live again");
            long since = requests(back, CUT);
            admin.await(EXPORT, v -> state(v, CUT).equals("live") && requests(v, CUT) > since + 500,
                    EVENT, "portal-b carrying requests again");
            String status = admin.status();
            LOG.info("mpath-nbd status after portal-b came back:\n{}", status);
            assertTrue(status.contains("portal-a") && status.contains(CUT), status);

            JsonNode job = fio.stop();
            LOG.info("fio: {} write IOPS, {} read (verify) bytes", job.path("write").path("iops").asLong(),
                    job.path("read").path("io_bytes").asLong());
            JsonNode end = admin.export(EXPORT);
            assertEquals("live", state(end, CUT), RigAdmin.summary(end));
            assertEquals("live", state(end, "portal-a"), RigAdmin.summary(end));
        } finally {
            if (fio != null) {
                fio.close();
            }
            compose.saveLogs("compose-iscsi-rig.log");
            compose.run(Duration.ofSeconds(120), "down", "-v", "--timeout", "5");
        }
    }

    /** One line of {@code tgtadm --op show --mode conn --tid 1}: session, connection, initiator's address. */
    private record Connection(long sid, long cid, String address) {
    }

    private static List<Connection> connections(ComposeProject compose) {
        String out = compose.exec("tgt", "tgtadm", "--lld", "iscsi", "--op", "show", "--mode", "conn", "--tid", "1")
                .assertOk().stdout();
        List<Connection> list = new ArrayList<>();
        long sid = -1;
        long cid = -1;
        for (String raw : out.split("\n")) {
            String line = raw.trim();
            if (line.startsWith("Session:")) {
                sid = Long.parseLong(line.substring("Session:".length()).trim());
            } else if (line.startsWith("Connection:")) {
                cid = Long.parseLong(line.substring("Connection:".length()).trim());
            } else if (line.startsWith("IP Address:")) {
                list.add(new Connection(sid, cid, line.substring("IP Address:".length()).trim()));
            }
        }
        return list;
    }

    private static void awaitNewSession(ComposeProject compose, String address, Set<Long> old, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<Connection> seen;
        do {
            seen = connections(compose);
            if (seen.stream().anyMatch(c -> c.address().equals(address) && !old.contains(c.sid()))) {
                return;
            }
            Thread.sleep(200);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("no new session from " + address + " within " + timeout + "; sessions: " + seen);
    }
}
