package io.mpathnbd.server.cli;

import static io.mpathnbd.server.GatewayTestSupport.adminAddress;
import static io.mpathnbd.server.GatewayTestSupport.alias;
import static io.mpathnbd.server.GatewayTestSupport.awaitState;
import static io.mpathnbd.server.GatewayTestSupport.fileUri;
import static io.mpathnbd.server.GatewayTestSupport.image;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.path.PathState;
import io.mpathnbd.server.Gateway;
import io.mpathnbd.server.GatewayTestSupport;
import io.mpathnbd.testing.peers.FreePort;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin-client commands against a real gateway that wants a token: from {@code --admin-token-file}, from
 * {@code MPATH_ADMIN_TOKEN} or the file {@code MPATH_ADMIN_TOKEN_FILE} names (those in a child process, which has its
 * own environment); without one, or with a wrong one, a message that says what to do and never shows a token; and
 * {@code serve --admin-token-file}.
 */
class CliAuthTest {
    private static final String TOKEN = "cli-test-token-4Rk9wQz7Lm2Xp";
    private static final String WRONG = "wrong-cli-token-8Hs3Vn6Bd1";
    private static final Duration CHILD = Duration.ofSeconds(60);

    @TempDir
    static Path dir;
    static Path img;
    static Path tokenFile;
    static Path wrongFile;
    static Gateway gateway;
    static String admin;

    @BeforeAll
    static void start() throws Exception {
        img = image(dir, "disk.img");
        tokenFile = dir.resolve("admin.token");
        Files.writeString(tokenFile, TOKEN + "\n");
        wrongFile = dir.resolve("wrong.token");
        Files.writeString(wrongFile, WRONG);
        gateway = GatewayTestSupport.twoPathGatewayWith(img, "admin-auth:\n  token-file: " + tokenFile + "\n");
        admin = adminAddress(gateway);
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    private static void assertNoToken(String text) {
        assertFalse(text.contains(TOKEN), "the token is shown: " + text);
        assertFalse(text.contains(WRONG), "the wrong token is shown: " + text);
    }

    @Test
    void withoutATokenTheCommandSaysHowToGiveOne() {
        for (String[] args : List.of(new String[] {"status", "--admin", admin},
                new String[] {"path", "fail", "--admin", admin, "disk0", "p0"},
                new String[] {"iopolicy", "--admin", admin, "disk0", "round-robin"})) {
            CliRun r = CliRun.of(args);
            assertEquals(1, r.exitCode(), r.toString());
            assertEquals("mpath-nbd: the admin API at " + admin + " needs its token: give --admin-token-file FILE"
                    + " (the gateway's admin-auth token-file) or set MPATH_ADMIN_TOKEN", r.err().strip());
        }
        assertEquals(PathState.LIVE, gateway.export("disk0").path("p0").state());
        assertEquals("numa", gateway.export("disk0").ioPolicy());
    }

    @Test
    void theTokenFileServesEveryCommand() {
        String f = tokenFile.toString();
        CliRun status = CliRun.of("status", "--admin", admin, "--admin-token-file", f);
        assertEquals(0, status.exitCode(), status.toString());
        assertTrue(status.out().startsWith("disk0 size=64MiB"), status.out());

        CliRun fail = CliRun.of("path", "fail", "--admin", admin, "--admin-token-file", f, "disk0", "p1");
        assertEquals(0, fail.exitCode(), fail.toString());
        awaitState(gateway.export("disk0"), "p1", PathState.DISABLED);
        CliRun back = CliRun.of("path", "reinstate", "--admin", admin, "--admin-token-file", f, "disk0", "p1");
        assertEquals(0, back.exitCode(), back.toString());
        awaitState(gateway.export("disk0"), "p1", PathState.LIVE);

        String extra = fileUri(alias(img, "cli-extra.img"));
        CliRun add = CliRun.of("path", "add", "--admin", admin, "--admin-token-file", f, "--id", "x", "disk0", extra);
        assertEquals(0, add.exitCode(), add.toString());
        CliRun remove = CliRun.of("path", "remove", "--admin", admin, "--admin-token-file", f, "disk0", "x");
        assertEquals(0, remove.exitCode(), remove.toString());
        assertNull(gateway.export("disk0").path("x"));

        CliRun policy = CliRun.of("iopolicy", "--admin", admin, "--admin-token-file", f, "disk0", "service-time");
        assertEquals(0, policy.exitCode(), policy.toString());
        assertEquals("service-time", gateway.export("disk0").ioPolicy());
        CliRun.of("iopolicy", "--admin", admin, "--admin-token-file", f, "disk0", "numa");
        assertEquals("numa", gateway.export("disk0").ioPolicy());
    }

    @Test
    void aWrongTokenIsRefusedWithoutShowingIt() {
        CliRun r = CliRun.of("path", "fail", "--admin", admin, "--admin-token-file", wrongFile.toString(), "disk0",
                "p0");
        assertEquals(1, r.exitCode(), r.toString());
        assertEquals("mpath-nbd: the admin API at " + admin + " refused the token from " + wrongFile
                + ": it is not the gateway's admin token", r.err().strip());
        assertNoToken(r.out() + r.err());
        assertEquals(PathState.LIVE, gateway.export("disk0").path("p0").state());
    }

    @Test
    void anUnreadableOrMalformedTokenFileIsAUsageError() throws Exception {
        Path missing = dir.resolve("missing.token");
        CliRun r = CliRun.of("status", "--admin", admin, "--admin-token-file", missing.toString());
        assertEquals(2, r.exitCode(), r.toString());
        assertEquals("mpath-nbd: config error: --admin-token-file: cannot read " + missing + ": no such file",
                r.err().strip());
        Path shortFile = dir.resolve("short.token");
        Files.writeString(shortFile, "short-secret");
        r = CliRun.of("status", "--admin", admin, "--admin-token-file", shortFile.toString());
        assertEquals(2, r.exitCode(), r.toString());
        assertEquals("mpath-nbd: config error: --admin-token-file (" + shortFile + "): the token must be 16 to 4096"
                + " characters long, it has 12 (make one with `head -c 32 /dev/urandom | base64 > FILE`)",
                r.err().strip());
        assertFalse(r.err().contains("short-secret"), r.err());
    }

    @Test
    void theTokenFromTheEnvironment() throws Exception {
        try (ChildProcess p = ChildProcess.start(dir, List.of(), Map.of("MPATH_ADMIN_TOKEN", TOKEN),
                "status", "--admin", admin)) {
            assertEquals(0, p.waitFor(CHILD), p.describe());
            assertTrue(p.out().startsWith("disk0 size=64MiB"), p.describe());
        }
        try (ChildProcess p = ChildProcess.start(dir, List.of(), Map.of("MPATH_ADMIN_TOKEN", WRONG),
                "path", "fail", "--admin", admin, "disk0", "p0")) {
            assertEquals(1, p.waitFor(CHILD), p.describe());
            assertTrue(p.err().contains("mpath-nbd: the admin API at " + admin + " refused the token from"
                    + " $MPATH_ADMIN_TOKEN: it is not the gateway's admin token"), p.describe());
            assertNoToken(p.out() + p.err());
        }
        assertEquals(PathState.LIVE, gateway.export("disk0").path("p0").state());
        try (ChildProcess p = ChildProcess.start(dir, List.of(), Map.of("MPATH_ADMIN_TOKEN_FILE",
                tokenFile.toString()), "status", "--admin", admin)) {
            assertEquals(0, p.waitFor(CHILD), p.describe());
            assertTrue(p.out().startsWith("disk0 size=64MiB"), p.describe());
        }
        // the option wins over the environment
        try (ChildProcess p = ChildProcess.start(dir, List.of(), Map.of("MPATH_ADMIN_TOKEN", WRONG),
                "status", "--admin", admin, "--admin-token-file", tokenFile.toString())) {
            assertEquals(0, p.waitFor(CHILD), p.describe());
        }
    }

    @Test
    void serveTakesTheTokenFileOnItsCommandLine() throws Exception {
        int nbd = FreePort.next();
        int adminPort = FreePort.next();
        String at = "127.0.0.1:" + adminPort;
        Path disk = image(dir, "served.img");
        try (ChildProcess p = ChildProcess.start(dir, "serve", "--listen", "127.0.0.1:" + nbd, "--admin", at,
                "--admin-token-file", tokenFile.toString(), "--export", "disk0=" + fileUri(disk))) {
            p.awaitOutput("the gateway to listen", CHILD, s -> s.contains("serving NBD on 127.0.0.1:" + nbd));
            assertTrue(p.err().contains("bearer token required"), p.describe());
            CliRun none = CliRun.of("status", "--admin", at);
            assertEquals(1, none.exitCode(), none.toString());
            assertTrue(none.err().contains("needs its token"), none.toString());
            CliRun ok = CliRun.of("status", "--admin", at, "--admin-token-file", tokenFile.toString());
            assertEquals(0, ok.exitCode(), ok.toString());
            assertEquals(143, p.terminate(CHILD), p.describe());
            assertNoToken(p.out() + p.err());
        }
    }
}
