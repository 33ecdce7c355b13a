package io.mpathnbd.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.iscsi.backend.IscsiOptions;
import io.mpathnbd.testing.Tgtd;
import io.mpathnbd.testing.peers.FreePort;
import io.mpathnbd.testing.peers.Images;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code mpath-nbd discover} against a real tgtd (the test fixture), run in-process through picocli. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DiscoverCommandTest {
    @TempDir
    Path tmp;

    private Path image;

    @BeforeEach
    void setUp() {
        image = Images.sparse(tmp, "lun.img", 16 << 20);
    }

    @Test
    void listsEveryTargetWithThePortalsItIsOfferedOn() throws Exception {
        try (Tgtd tgt = Tgtd.start(image)) {
            // tgt answers SendTargets with the portal the discovery session came in on
            for (int i = 0; i < 2; i++) {
                CliRun r = CliRun.of("discover", "iscsi://" + hostPort(tgt.portal(i)));
                assertEquals(0, r.exitCode(), r.toString());
                assertEquals(List.of(line(tgt.portal(i))), r.out().lines().toList(), r.toString());
            }
            String second = "iqn.2026-11.io.mpathnbd:second";
            tgt.tgtadm("--op", "new", "--mode", "target", "--tid", "2", "-T", second);
            tgt.tgtadm("--op", "bind", "--mode", "target", "--tid", "2", "-I", "ALL");
            CliRun both = CliRun.of("discover", "iscsi://" + hostPort(tgt.portal(1)) + "/", "--timeout", "5s");
            assertEquals(0, both.exitCode(), both.toString());
            assertEquals(Set.of(line(tgt.portal(1)), hostPort(tgt.portal(1)) + ",1 " + second),
                    Set.copyOf(both.out().lines().toList()), both.toString());
            assertEquals(2, both.out().lines().count(), both.toString());
        }
    }

    @Test
    void initiatorNameDecidesWhatTheTargetShows() throws Exception {
        String allowed = "iqn.2026-11.io.mpathnbd:discover-test";
        try (Tgtd tgt = Tgtd.start(image, Tgtd.Options.defaults().extraPortals(0))) {
            // tgt lists a target in SendTargets only to initiators its ACL admits
            tgt.tgtadm("--op", "unbind", "--mode", "target", "--tid", "1", "-I", "ALL");
            tgt.tgtadm("--op", "bind", "--mode", "target", "--tid", "1", "-Q", allowed);
            String uri = "iscsi://" + hostPort(tgt.portal(0));

            CliRun named = CliRun.of("discover", "--initiator-name", allowed, uri);
            assertEquals(0, named.exitCode(), named.toString());
            assertEquals(List.of(line(tgt.portal(0))), named.out().lines().toList(), named.toString());

            CliRun byDefault = CliRun.of("discover", uri);
            assertEquals(0, byDefault.exitCode(), byDefault.toString());
            assertEquals("", byDefault.out(), byDefault.toString());
            assertTrue(byDefault.err().contains("offers no targets to initiator "
                    + IscsiOptions.defaultInitiatorName()), byDefault.toString());

            CliRun bad = CliRun.of("discover", "--initiator-name", "not-an-iqn", uri);
            assertEquals(Main.EXIT_USAGE, bad.exitCode(), bad.toString());
            assertTrue(bad.err().contains("--initiator-name"), bad.toString());
        }
    }

    @Test
    void chapCredentialsFromTheUriOrASecretFile() throws Exception {
        Tgtd.Options options = Tgtd.Options.defaults().extraPortals(0).discoveryChap("finder", "finder-secret-1");
        try (Tgtd tgt = Tgtd.start(image, options)) {
            String portal = hostPort(tgt.portal(0));
            String expected = line(tgt.portal(0));

            CliRun inUri = CliRun.of("discover", "iscsi://finder:finder-secret-1@" + portal);
            assertEquals(0, inUri.exitCode(), inUri.toString());
            assertEquals(List.of(expected), inUri.out().lines().toList(), inUri.toString());

            Path secret = tmp.resolve("secret");
            Files.writeString(secret, "finder-secret-1\n");
            CliRun fromFile = CliRun.of("discover", "--chap-user", "finder", "--chap-secret-file", secret.toString(),
                    "iscsi://" + portal);
            assertEquals(0, fromFile.exitCode(), fromFile.toString());
            assertEquals(List.of(expected), fromFile.out().lines().toList(), fromFile.toString());

            CliRun userInUri = CliRun.of("discover", "--chap-secret-file", secret.toString(),
                    "iscsi://finder@" + portal);
            assertEquals(0, userInUri.exitCode(), userInUri.toString());

            CliRun none = CliRun.of("discover", "iscsi://" + portal);
            assertRefusedForAuthentication(none);

            CliRun wrong = CliRun.of("discover", "iscsi://finder:guessed-secret-9@" + portal);
            assertRefusedForAuthentication(wrong);
            assertFalse(wrong.err().contains("guessed-secret-9"), "the secret is never printed: " + wrong);
        }
    }

    @Test
    void mutualChapChecksThePortal() throws Exception {
        Tgtd.Options options = Tgtd.Options.defaults().extraPortals(0).discoveryChap("finder", "finder-secret-1")
                .discoveryMutualChap("portal", "portal-secret-1");
        try (Tgtd tgt = Tgtd.start(image, options)) {
            String uri = "iscsi://finder:finder-secret-1@" + hostPort(tgt.portal(0));
            Path right = tmp.resolve("portal-secret");
            Files.writeString(right, "portal-secret-1");
            CliRun ok = CliRun.of("discover", "--mutual-chap-user", "portal", "--mutual-chap-secret-file",
                    right.toString(), uri);
            assertEquals(0, ok.exitCode(), ok.toString());
            assertEquals(List.of(line(tgt.portal(0))), ok.out().lines().toList(), ok.toString());

            Path other = tmp.resolve("other-secret");
            Files.writeString(other, "other-secret-1");
            CliRun forged = CliRun.of("discover", "--mutual-chap-user", "portal", "--mutual-chap-secret-file",
                    other.toString(), uri);
            assertEquals(Main.EXIT_RUNTIME, forged.exitCode(), forged.toString());
            assertTrue(forged.err().contains("check the initiator name and the CHAP settings"), forged.toString());
            assertEquals("", forged.out(), forged.toString());
        }
    }

    @Test
    void unreachablePortalFailsWithAClearMessage() {
        int port = FreePort.next();
        CliRun r = CliRun.of("discover", "--timeout", "5s", "iscsi://127.0.0.1:" + port);
        assertEquals(Main.EXIT_RUNTIME, r.exitCode(), r.toString());
        String message = r.err().lines().filter(l -> l.startsWith("mpath-nbd: ")).findFirst().orElse("");
        assertTrue(message.contains("127.0.0.1:" + port) && message.contains("cannot connect"), r.toString());
        assertEquals("", r.out(), r.toString());
    }

    @Test
    void aHungPortalFailsAfterTheTimeout() throws Exception {
        try (Tgtd tgt = Tgtd.start(image, Tgtd.Options.defaults().extraPortals(0))) {
            tgt.stop();
            long start = System.nanoTime();
            CliRun r = CliRun.of("discover", "--timeout", "1s", "iscsi://" + hostPort(tgt.portal(0)));
            long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
            tgt.resume();
            assertEquals(Main.EXIT_RUNTIME, r.exitCode(), r.toString());
            assertTrue(r.err().startsWith("mpath-nbd: ") && r.err().contains(hostPort(tgt.portal(0)))
                    && r.err().contains("within"), r.toString());
            assertTrue(seconds < 10, "gave up after " + seconds + " s: " + r);
            CliRun after = CliRun.of("discover", "iscsi://" + hostPort(tgt.portal(0)));
            assertEquals(0, after.exitCode(), after.toString());
        }
    }

    @Test
    void wrongArgumentsAreUsageErrors() throws Exception {
        Path secret = tmp.resolve("secret");
        Files.writeString(secret, "s3cret-s3cret");
        Path empty = tmp.resolve("empty");
        Files.writeString(empty, "\n");
        List<List<String>> cases = List.of(
                List.of("nbd://127.0.0.1:3260"),
                List.of("iscsi://127.0.0.1:3260/iqn.2026-11.io.mpathnbd:test/1"),
                List.of("iscsi://127.0.0.1:99999"),
                List.of("--timeout", "soon", "iscsi://127.0.0.1"),
                List.of("--timeout", "0", "iscsi://127.0.0.1"),
                List.of("--chap-user", "finder", "iscsi://127.0.0.1"),
                List.of("--chap-secret-file", secret.toString(), "iscsi://127.0.0.1"),
                List.of("--chap-user", "finder", "--chap-secret-file", empty.toString(), "iscsi://127.0.0.1"),
                List.of("--chap-user", "finder", "--chap-secret-file", tmp.resolve("none").toString(),
                        "iscsi://127.0.0.1"),
                List.of("--chap-user", "other", "iscsi://finder:s3cret-s3cret@127.0.0.1"),
                List.of("iscsi://finder@127.0.0.1"),
                List.of("--mutual-chap-user", "portal", "--mutual-chap-secret-file", secret.toString(),
                        "iscsi://127.0.0.1"));
        for (List<String> args : cases) {
            String[] argv = new String[args.size() + 1];
            argv[0] = "discover";
            for (int i = 0; i < args.size(); i++) {
                argv[i + 1] = args.get(i);
            }
            CliRun r = CliRun.of(argv);
            assertEquals(Main.EXIT_USAGE, r.exitCode(), args + ": " + r);
            assertTrue(r.err().startsWith("mpath-nbd: "), args + ": " + r);
            assertFalse(r.err().contains("s3cret-s3cret"), "the secret is never printed: " + r);
        }
        CliRun missing = CliRun.of("discover");
        assertEquals(Main.EXIT_USAGE, missing.exitCode(), missing.toString());
        CliRun help = CliRun.of("discover", "--help");
        assertEquals(0, help.exitCode(), help.toString());
        assertTrue(help.out().contains("--chap-secret-file") && help.out().contains("--initiator-name"),
                help.toString());
    }

    private static void assertRefusedForAuthentication(CliRun r) {
        assertEquals(Main.EXIT_RUNTIME, r.exitCode(), r.toString());
        // the target's status class 2 (initiator error), detail 1 (authentication failure)
        assertTrue(r.err().contains("status 2/1"), r.toString());
        assertTrue(r.err().contains("check the initiator name and the CHAP settings"), r.toString());
        assertEquals("", r.out(), r.toString());
    }

    private static String line(InetSocketAddress portal) {
        return hostPort(portal) + ",1 " + Tgtd.IQN;
    }

    private static String hostPort(InetSocketAddress a) {
        return a.getHostString() + ":" + a.getPort();
    }
}
