package io.mpathnbd.server.cli;

import static io.mpathnbd.server.GatewayTestSupport.adminAddress;
import static io.mpathnbd.server.GatewayTestSupport.awaitState;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.backend.FailureKind;
import io.mpathnbd.core.backend.ReservationOps;
import io.mpathnbd.core.backend.ReservationType;
import io.mpathnbd.core.path.PathState;
import io.mpathnbd.server.Gateway;
import io.mpathnbd.server.GatewayTestSupport;
import io.mpathnbd.server.LogCapture;
import io.mpathnbd.server.OtherInitiator;
import io.mpathnbd.server.config.GatewayConfig;
import io.mpathnbd.testing.Tgtd;
import io.mpathnbd.testing.peers.Images;
import io.mpathnbd.testing.peers.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pacemaker's {@code fence_mpath} (Debian's fence-agents 4.12.1) unfencing and fencing two hosts that reach one tgtd
 * LUN through two portals each, each host a gateway of its own, with {@code mpath-nbd persist} as its mpathpersist
 * (a wrapper script giving the gateway's admin address, token and device mapping). What the agent reports is
 * checked against the disk as a third, independent initiator session sees it, and against the victim's writes.
 */
class FenceMpathTest {
    private static final String FENCE_MPATH = "/usr/sbin/fence_mpath";
    private static final Duration AGENT_TIMEOUT = Duration.ofSeconds(180);
    private static final long A = 0xa1L;
    private static final long B = 0xb2c3d4e5f6L;
    private static final ReservationType WE_RO = ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY;

    @TempDir
    Path dir;
    private Tgtd tgtd;
    private Gateway hostA;
    private Gateway hostB;
    private OtherInitiator other;
    private Path device;

    @BeforeEach
    void setUp() throws Exception {
        Tools.require("fence_mpath", "mknod", "qemu-io");
        tgtd = Tgtd.start(Images.sparse(dir, "lun.img", 16L << 20));
        hostA = gateway("a");
        hostB = gateway("b");
        other = new OtherInitiator(tgtd.uri(0), "iqn.2026-12.io.mpathnbd.test:other-host");
        // fence_mpath insists on a block device node (S_ISBLK); a node needs no driver behind it to be one
        device = dir.resolve("mpatha");
        Tools.run(Duration.ofSeconds(10), "mknod", device.toString(), "b", "7", "250").assertOk();
    }

    private Gateway gateway(String name) throws Exception {
        Path token = Files.writeString(dir.resolve("token-" + name), "token-of-host-" + name + "-0123456789abcdef\n");
        Gateway g = Gateway.start(GatewayConfig.parse("listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\n"
                + "admin-auth:\n  token-file: " + token + "\n"
                + "iscsi:\n  initiator-name: iqn.2026-12.io.mpathnbd.test:host-" + name + "\n"
                + "defaults:\n  iopolicy: round-robin\n  io-timeout: 2s\n  reconnect-min: 50ms\n"
                + "  reconnect-max: 500ms\n"
                + "exports:\n  - name: disk\n    paths:\n      - " + tgtd.uri(0) + "\n      - " + tgtd.uri(1)
                + "\n"));
        awaitState(g.export("disk"), "p0", PathState.LIVE);
        awaitState(g.export("disk"), "p1", PathState.LIVE);
        return g;
    }

    @AfterEach
    void tearDown() {
        for (AutoCloseable c : new AutoCloseable[] {other, hostA, hostB, tgtd}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }
    }

    /** The host's mpathpersist: mpath-nbd persist with its gateway's admin address, token and mapping. */
    private Path wrapper(String name, Gateway g) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path script = dir.resolve("mpathpersist-" + name);
        Files.writeString(script, "#!/bin/sh\nexec '" + java + "' -Dio.netty.leakDetection.level=paranoid"
                + " -Dlogback.configurationFile=logback.xml -cp '" + System.getProperty("java.class.path") + "' "
                + Main.class.getName() + " persist --admin " + adminAddress(g) + " --admin-token-file "
                + dir.resolve("token-" + name) + " --map " + device + "=disk \"$@\"\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        return script;
    }

    /** fence_mpath run as Pacemaker would, for the host whose wrapper and store directory these are. */
    private Tools.Result agent(String host, Gateway g, String key, String action) throws Exception {
        Path store = Files.createDirectories(dir.resolve("store-" + host));
        return Tools.run(AGENT_TIMEOUT, FENCE_MPATH, "--devices=" + device, "--key=" + key, "--action=" + action,
                "--mpathpersist-path=" + wrapper(host, g), "--store-path=" + store);
    }

    @Test
    void unfenceStatusAndFenceAHostAsTheAgentReportsThem() throws Exception {
        // on: host A registers on both its paths and, finding no reservation, reserves write exclusive RO
        Tools.Result onA = agent("a", hostA, "a1", "on");
        assertEquals(0, onA.exitCode(), onA.describe());
        assertTrue(onA.stdout().contains("Success: Powered ON"), onA.describe());
        assertEquals(List.of(A, A), other.keys());
        assertEquals(new ReservationOps.Holder(A, WE_RO), other.holder());
        assertEquals("disk\ta1\n", Files.readString(dir.resolve("store-a/mpath.devices")).replace(device + "\t",
                "disk\t"));

        // on: host B registers too; the reservation exists, so it is left alone
        Tools.Result onB = agent("b", hostB, "b2c3d4e5f6", "on");
        assertEquals(0, onB.exitCode(), onB.describe());
        assertEquals(List.of(A, A, B, B), other.keys());
        assertEquals(new ReservationOps.Holder(A, WE_RO), other.holder());
        GatewayTestSupport.writeAndVerify(GatewayTestSupport.nbdUri(hostB, "disk"), 0, 0x3c).assertOk();
        Failure unregistered = other.writeRefused(0);
        assertEquals(FailureKind.RESERVATION_CONFLICT, unregistered.kind(), unregistered.toString());

        // status, as either host's agent sees the disk
        Tools.Result statusA = agent("a", hostA, "a1", "status");
        assertEquals(0, statusA.exitCode(), statusA.describe());
        assertTrue(statusA.stdout().contains("Status: ON"), statusA.describe());
        Tools.Result statusB = agent("a", hostA, "b2c3d4e5f6", "status");
        assertEquals(0, statusB.exitCode(), statusB.describe());
        assertTrue(statusB.stdout().contains("Status: ON"), statusB.describe());

        // off: host A fences host B. tgt refuses PREEMPT AND ABORT, the gateway sends PREEMPT and says so once
        LogCapture logs = new LogCapture();
        logs.attach();
        Tools.Result off;
        try {
            off = agent("a", hostA, "b2c3d4e5f6", "off");
        } finally {
            logs.detach();
        }
        assertEquals(0, off.exitCode(), off.describe());
        assertTrue(off.stdout().contains("Success: Powered OFF"), off.describe());
        assertEquals(1, logs.lines().stream().filter(l -> l.contains("sending PREEMPT instead (abort-fallback)"))
                .count(), logs.lines().toString());
        assertEquals(List.of(A, A), other.keys(), "the victim's key is gone from both its nexuses");
        assertEquals(new ReservationOps.Holder(A, WE_RO), other.holder(), "the reservation stays with host A");

        Tools.Result fenced = agent("a", hostA, "b2c3d4e5f6", "status");
        assertEquals(2, fenced.exitCode(), fenced.describe());
        assertTrue(fenced.stdout().contains("Status: OFF"), fenced.describe());

        // the victim's writes are refused by the disk (EPERM to its client), host A's still land
        Tools.Result victim = GatewayTestSupport.writeAndVerify(GatewayTestSupport.nbdUri(hostB, "disk"), 0, 0x4d);
        assertFalse(victim.ok(), victim.describe());
        assertTrue(victim.stdout().contains("Operation not permitted")
                || victim.stderr().contains("Operation not permitted"), victim.describe());
        assertTrue(hostB.export("disk").reservationConflicts() > 0);
        assertEquals("fenced", hostB.reservations(hostB.export("disk")).state());
        GatewayTestSupport.writeAndVerify(GatewayTestSupport.nbdUri(hostA, "disk"), 0, 0x5e).assertOk();
        GatewayTestSupport.verify(GatewayTestSupport.nbdUri(hostB, "disk"), 0, 0x5e).assertOk();

        // fencing a host that is already off changes nothing and says so
        Tools.Result again = agent("a", hostA, "b2c3d4e5f6", "off");
        assertEquals(0, again.exitCode(), again.describe());
        assertTrue(again.stdout().contains("Success: Already OFF"), again.describe());
        assertEquals(List.of(A, A), other.keys());
    }

    @Test
    void persistPrintsWhatMpathpersistPrints() throws Exception {
        Path w = wrapper("a", hostA);
        Tools.Result none = Tools.run(AGENT_TIMEOUT, w.toString(), "-i", "-k", "-d", device.toString());
        assertEquals(0, none.exitCode(), none.describe());
        assertTrue(none.stdout().matches("  PR generation=0x[0-9a-f]+, \t0 registered reservation key\\.\n"),
                none.describe());
        Tools.Result noRes = Tools.run(AGENT_TIMEOUT, w.toString(), "-i", "-r", "-d", device.toString());
        assertTrue(noRes.stdout().matches("  PR generation=0x[0-9a-f]+, there is NO reservation held \n"),
                noRes.describe());

        assertEquals(0, Tools.run(AGENT_TIMEOUT, w.toString(), "-o", "--register", "--param-sark=0x00A1", "-d",
                device.toString()).exitCode());
        assertEquals(0, Tools.run(AGENT_TIMEOUT, w.toString(), "-o", "--reserve", "--param-rk=a1",
                "--prout-type=5", "-d", device.toString()).exitCode());
        Tools.Result keys = Tools.run(AGENT_TIMEOUT, w.toString(), "-i", "-k", "-d", device.toString());
        assertTrue(keys.stdout().matches("  PR generation=0x[0-9a-f]+, \t2 registered reservation keys follow:\n"
                + "    0xa1\n    0xa1\n"), keys.describe());
        Tools.Result res = Tools.run(AGENT_TIMEOUT, w.toString(), "-i", "-r", "-d", device.toString());
        assertTrue(res.stdout().matches("  PR generation=0x[0-9a-f]+, Reservation follows:\n   Key = 0xa1\n"
                + "  scope = LU_SCOPE, type = Write Exclusive, registrants only\n"), res.describe());

        // an RK that is not our key conflicts, as on the disk, and nothing is sent
        Tools.Result wrongRk = Tools.run(AGENT_TIMEOUT, w.toString(), "-o", "--release", "--param-rk=a2",
                "--prout-type=5", "-d", device.toString());
        assertEquals(PersistCommand.MPATH_PR_RESERV_CONFLICT, wrongRk.exitCode(), wrongRk.describe());
        assertEquals(new ReservationOps.Holder(A, WE_RO), other.holder());
        // RESERVE of another type while our key holds WE_RO: the disk answers RESERVATION CONFLICT, exit 11
        OtherInitiator.ok(other.pr().register(0, B, false));
        Tools.Result conflict = Tools.run(AGENT_TIMEOUT, w.toString(), "-o", "--reserve", "--param-rk=a1",
                "--prout-type=3", "-d", device.toString());
        assertEquals(PersistCommand.MPATH_PR_RESERV_CONFLICT, conflict.exitCode(), conflict.describe());
        assertEquals(new ReservationOps.Holder(A, WE_RO), other.holder());
        // plain PREEMPT, then release and unregister (SARK 0)
        assertEquals(0, Tools.run(AGENT_TIMEOUT, w.toString(), "-o", "--preempt", "--param-rk=a1",
                "--param-sark=" + Long.toHexString(B), "--prout-type=5", "-d", device.toString()).exitCode());
        assertEquals(List.of(A, A), other.keys());
        assertEquals(0, Tools.run(AGENT_TIMEOUT, w.toString(), "-o", "--release", "--param-rk=a1",
                "--prout-type=5", "-d", device.toString()).exitCode());
        assertEquals(null, other.holder());
        assertEquals(0, Tools.run(AGENT_TIMEOUT, w.toString(), "-o", "--register-ignore", "--param-sark=0", "-d",
                device.toString()).exitCode());
        assertEquals(List.of(), other.keys());
    }

    @Test
    void badInputIsAUsageErrorAndChangesNothing() throws Exception {
        String admin = adminAddress(hostA);
        String token = dir.resolve("token-a").toString();
        String map = "--map=" + device + "=disk";
        List<String[]> bad = List.of(
                new String[] {"-o", "--register", "--param-sark=0xZZ", "-d", device.toString()},
                new String[] {"-o", "--register", "--param-sark=0x0123456789abcdef01", "-d", device.toString()},
                new String[] {"-o", "--reserve", "--param-rk=a1", "--prout-type=2", "-d", device.toString()},
                new String[] {"-o", "--register", "--param-sark=a1", "-d", "/dev/mapper/nothere"},
                new String[] {"-i", "-d", device.toString()},
                new String[] {"-i", "-k", "-r", "-d", device.toString()},
                new String[] {"-o", "-d", device.toString()},
                new String[] {"-o", "--register", "--reserve", "--param-sark=a1", "-d", device.toString()},
                new String[] {"-o", "--preempt-abort", "--param-rk=a1", "--prout-type=5", "-d", device.toString()},
                new String[] {"-i", "-k"},
                new String[] {"-k", "-d", device.toString()},
                new String[] {"-i", "-k", "--no-such-option", "-d", device.toString()});
        for (String[] args : bad) {
            String[] all = new String[args.length + 6];
            all[0] = "persist";
            all[1] = "--admin";
            all[2] = admin;
            all[3] = "--admin-token-file";
            all[4] = token;
            all[5] = map;
            System.arraycopy(args, 0, all, 6, args.length);
            CliRun r = CliRun.of(all);
            assertEquals(Main.EXIT_USAGE, r.exitCode(), r.toString());
            assertTrue(r.err().startsWith("mpath-nbd: persist: ") || r.err().contains("Unknown option")
                    || r.err().contains("Missing"), r.toString());
            assertFalse(r.err().contains("token-of-host"), r.toString());
        }
        CliRun unknown = CliRun.of("persist", "--admin", admin, "--admin-token-file", token, map, "-i", "-k", "-d",
                "/dev/mapper/nothere");
        assertEquals("mpath-nbd: persist: device '/dev/mapper/nothere' is not mapped to an export of the gateway"
                + " (mapped: " + device + "); give --map DEVICE=EXPORT or --map-file FILE\n", unknown.err());
        CliRun malformed = CliRun.of("persist", "--admin", admin, "--admin-token-file", token, map, "-o",
                "--register", "--param-sark=0xZZ", "-d", device.toString());
        assertEquals("mpath-nbd: persist: --param-sark '0xZZ' is not a reservation key: 1 to 16 hex digits"
                + " (8 bytes), 0x optional\n", malformed.err());
        java.net.http.HttpResponse<String> api = GatewayTestSupport.http(hostA, "POST",
                "/api/exports/disk/reservation/preempt", "{\"key\": \"0xb2\", \"abort-fallback\": true}",
                java.util.Map.of("Authorization", "Bearer " + Files.readString(dir.resolve("token-a")).strip()));
        assertEquals(400, api.statusCode(), api.body());
        assertTrue(api.body().contains("'abort-fallback' goes with \\\"abort\\\": true"), api.body());
        assertEquals(List.of(), other.keys(), "nothing registered");
        assertEquals(null, other.holder());

        // a symlink to the mapped node finds the same export, as /dev/mapper names do; a map file works too
        Path link = Files.createSymbolicLink(dir.resolve("by-id-link"), device);
        Path mapFile = Files.writeString(dir.resolve("persist.map"), "# device export\n" + device + "  disk\n");
        CliRun viaLink = CliRun.of("persist", "--admin", admin, "--admin-token-file", token, "--map-file",
                mapFile.toString(), "-i", "-k", "-d", link.toString());
        assertEquals(0, viaLink.exitCode(), viaLink.toString());
        assertTrue(viaLink.out().endsWith("\t0 registered reservation key.\n"), viaLink.toString());

        // the agent itself, given a device the mapping lacks, fails and says why
        Path unmapped = dir.resolve("mpathb");
        Tools.run(Duration.ofSeconds(10), "mknod", unmapped.toString(), "b", "7", "251").assertOk();
        Path store = Files.createDirectories(dir.resolve("store-a"));
        Tools.Result agent = Tools.run(AGENT_TIMEOUT, FENCE_MPATH, "--devices=" + unmapped, "--key=a1",
                "--action=status", "--mpathpersist-path=" + wrapper("a", hostA), "--store-path=" + store);
        assertTrue(agent.exitCode() != 0, agent.describe());
        assertTrue(agent.stderr().contains("is not mapped to an export of the gateway"), agent.describe());
    }
}
