package io.mpathnbd.server.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.AppenderBase;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mpathnbd.core.path.PathState;
import io.mpathnbd.server.Gateway;
import io.mpathnbd.server.config.GatewayConfig;
import io.mpathnbd.testing.Tgtd;
import io.mpathnbd.testing.peers.Images;
import io.mpathnbd.testing.peers.Tools;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * CHAP through the whole gateway against a real tgtd that requires it: the right secret (in the path URI, or in the
 * config's {@code iscsi:} section from a secret file, top level or per export) makes a live path that carries I/O;
 * mutual CHAP works and refuses a target that answers with the wrong secret; a wrong secret leaves the path refused
 * with a clear last error, is retried only slowly (no login storm against the target), and no secret ever reaches
 * the gateway's log output or its admin API.
 */
class IscsiChapTest {
    private static final long SIZE = 16L << 20;
    private static final String USER = "gateway";
    private static final String SECRET = "chap-secret-7Qx2Lm9";
    private static final String WRONG = "not-the-secret-4Vb8Kd";
    private static final String TARGET_USER = "tgt-proves";
    private static final String TARGET_SECRET = "target-secret-3Ns6Wp";
    private static final String WRONG_TARGET = "wrong-target-secret-8Hc1";
    /** Every secret of this class: none may appear in a log line, a last error or an admin answer. */
    private static final List<String> SECRETS = List.of(SECRET, WRONG, TARGET_SECRET, WRONG_TARGET);

    /** A refused path is retried after reconnect-max; ordinary failures would back off from reconnect-min. */
    private static final Duration RECONNECT_MAX = Duration.ofSeconds(2);
    private static final Duration WATCH = Duration.ofSeconds(6);

    private final LogCapture logs = new LogCapture();

    @TempDir
    Path dir;

    @BeforeEach
    void captureLogs() {
        logs.attach();
    }

    @AfterEach
    void releaseLogs() {
        logs.detach();
    }

    @Test
    void theRightSecretInThePathUriLogsInAndCarriesIo() throws Exception {
        Tools.require("qemu-io");
        Path image = Images.sparse(dir, "lun.img", SIZE);
        try (Tgtd tgtd = Tgtd.start(image, Tgtd.Options.defaults().chap(USER, SECRET));
                Gateway g = Gateway.start(GatewayConfig.parse(config("", List.of(withUserInfo(tgtd.uri(0),
                        USER + ":" + SECRET), withUserInfo(tgtd.uri(1), USER + ":" + SECRET)), "")))) {
            awaitLive(g);
            roundTrip(g, image, 0x3c);
            assertEquals(2, tgtd.connections().size(), "one session per path: " + tgtd.connections());
            JsonNode export = admin(g);
            for (JsonNode p : export.path("paths")) {
                assertFalse(p.path("uri").asText().contains(SECRET), "the admin API shows the secret: " + p);
                assertFalse(p.path("uri").asText().contains(USER + ":"), "userinfo in the shown URI: " + p);
            }
            assertNoSecretShown(g);
        }
    }

    @Test
    void theRightSecretFromATopLevelSecretFileLogsIn() throws Exception {
        Tools.require("qemu-io");
        Path image = Images.sparse(dir, "lun.img", SIZE);
        Path secretFile = secretFile("chap.secret", SECRET + "\n");
        String top = "iscsi:\n  chap-user: " + USER + "\n  chap-secret-file: " + secretFile + "\n";
        try (Tgtd tgtd = Tgtd.start(image, Tgtd.Options.defaults().chap(USER, SECRET));
                Gateway g = Gateway.start(GatewayConfig.parse(config(top, List.of(tgtd.uri(0), tgtd.uri(1)), "")))) {
            awaitLive(g);
            roundTrip(g, image, 0x4d);
            assertNoSecretShown(g);
        }
    }

    @Test
    void mutualChapFromAPerExportSectionLogsInAndAWrongTargetSecretIsRefused() throws Exception {
        Tools.require("qemu-io");
        Path image = Images.sparse(dir, "lun.img", SIZE);
        Path secretFile = secretFile("chap.secret", SECRET);
        Path targetSecretFile = secretFile("target.secret", TARGET_SECRET + "\n");
        String perExport = "    iscsi:\n      chap-user: " + USER + "\n      chap-secret-file: " + secretFile + "\n"
                + "      mutual-chap-user: " + TARGET_USER + "\n      mutual-chap-secret-file: " + targetSecretFile
                + "\n";
        Tgtd.Options options = Tgtd.Options.defaults().chap(USER, SECRET).mutualChap(TARGET_USER, TARGET_SECRET);
        try (Tgtd tgtd = Tgtd.start(image, options)) {
            try (Gateway g = Gateway.start(GatewayConfig.parse(config("", List.of(tgtd.uri(0), tgtd.uri(1)),
                    perExport)))) {
                awaitLive(g);
                roundTrip(g, image, 0x5e);
                assertNoSecretShown(g);
            }

            // the target proves itself with a secret other than the one we expect: we must not use it
            Path otherFile = secretFile("wrong-target.secret", WRONG_TARGET);
            String wrongTarget = perExport.replace(targetSecretFile.toString(), otherFile.toString());
            try (Gateway g = Gateway.start(GatewayConfig.parse(config("", List.of(tgtd.uri(0)), wrongTarget)))) {
                io.mpathnbd.core.path.Path p = awaitRefused(g);
                String error = p.lastError();
                assertTrue(error.contains("mutual CHAP") && error.contains("secret mismatch"), error);
                assertFalse(g.export("disk").ready(), "an export with no admitted path is not ready");
                assertNoSecretShown(g);
            }
        }
    }

    @Test
    void aWrongSecretIsRefusedClearlyQuietlyAndWithoutALoginStorm() throws Exception {
        Path image = Images.sparse(dir, "lun.img", SIZE);
        try (Tgtd tgtd = Tgtd.start(image, Tgtd.Options.defaults().chap(USER, SECRET));
                ConnectionCounter counter = ConnectionCounter.start(tgtd.portal(0));
                Gateway g = Gateway.start(GatewayConfig.parse(config("", List.of("iscsi://" + USER + ":" + WRONG
                        + "@127.0.0.1:" + counter.port() + "/" + Tgtd.IQN + "/1"), "")))) {
            io.mpathnbd.core.path.Path p = awaitRefused(g);
            long watchStart = System.nanoTime();
            int before = logs.failedLogins();
            int connectionsBefore = counter.accepted();

            String error = p.lastError();
            assertTrue(error.contains("authentication failed") && error.contains("status 2/1"), error);
            assertTrue(error.contains("CHAP user '" + USER + "'"), "names the user: " + error);
            JsonNode path = admin(g).path("paths").path(0);
            assertEquals("refused", path.path("state").asText(), path.toString());
            assertTrue(path.path("last-error").asText().contains("authentication failed (status 2/1)"),
                    path.toString());
            assertTrue(tgtd.connections().isEmpty(), "no session was admitted: " + tgtd.connections());

            Thread.sleep(WATCH.toMillis());
            long watched = System.nanoTime() - watchStart;
            int attempts = logs.failedLogins() - before;
            int connections = counter.accepted() - connectionsBefore;
            // a refused path retries after reconnect-max (2 s): about 3 attempts in 6 s; the ordinary backoff from
            // reconnect-min (50 ms) would make at least 8, a storm hundreds
            long bound = watched / RECONNECT_MAX.toNanos() + 1;
            assertTrue(connections >= 1, "the path keeps trying, slowly (" + connections + " connections)");
            assertTrue(connections <= bound, connections + " connections to the target in " + watched / 1_000_000
                    + " ms, expected at most " + bound + ":\n" + logs.lines());
            assertTrue(attempts <= bound, attempts + " failed logins logged in " + watched / 1_000_000
                    + " ms, expected at most " + bound + ":\n" + logs.lines());
            assertTrue(attempts >= connections - 1, "every refused login is logged (" + attempts + " lines for "
                    + connections + " connections)");
            // (it may be between two attempts now: CONNECTING again, soon REFUSED again)
            awaitRefused(g);
            assertFalse(g.export("disk").ready());
            assertNoSecretShown(g);
        }
    }

    // ---------------------------------------------------------------- helpers

    private static String config(String topLevel, List<String> uris, String exportExtra) {
        StringBuilder yaml = new StringBuilder()
                .append("listen: 127.0.0.1:0\n")
                .append("admin: 127.0.0.1:0\n")
                .append("defaults:\n")
                .append("  io-timeout: 2s\n")
                .append("  connect-timeout: 2s\n")
                .append("  reconnect-min: 50ms\n")
                .append("  reconnect-max: ").append(RECONNECT_MAX.toMillis()).append("ms\n")
                .append("  iopolicy: round-robin\n")
                .append(topLevel)
                .append("exports:\n  - name: disk\n")
                .append(exportExtra)
                .append("    paths:\n");
        for (String uri : uris) {
            yaml.append("      - \"").append(uri).append("\"\n");
        }
        return yaml.toString();
    }

    /** {@code iscsi://host:port/...} with {@code userinfo@} after the scheme. */
    private static String withUserInfo(String uri, String userInfo) {
        return uri.replaceFirst("^iscsi://", "iscsi://" + userInfo + "@");
    }

    private Path secretFile(String name, String content) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, content);
        return f;
    }

    private static void awaitLive(Gateway g) {
        GatewayRig.await(Duration.ofSeconds(20), () -> g.export("disk").ready() && g.export("disk").paths().stream()
                .allMatch(p -> p.state() == PathState.LIVE), () -> "paths not live: " + describe(g));
    }

    private static io.mpathnbd.core.path.Path awaitRefused(Gateway g) {
        io.mpathnbd.core.path.Path p = g.export("disk").paths().get(0);
        GatewayRig.await(Duration.ofSeconds(15), () -> p.state() == PathState.REFUSED, () -> "not refused: "
                + describe(g));
        return p;
    }

    private static String describe(Gateway g) {
        return g.export("disk").paths().stream().map(p -> p.id() + "=" + p.state() + " (" + p.lastError() + ")")
                .toList().toString();
    }

    /** qemu-io writes and reads back through the gateway; the bytes are on the LUN's image file. */
    private static void roundTrip(Gateway g, Path image, int pattern) {
        String uri = "nbd://127.0.0.1:" + g.nbdAddress().getPort() + "/disk";
        Tools.run(GatewayRig.TOOL_TIMEOUT, "qemu-io", "-f", "raw", "-t", "none", "-c", "write -P " + pattern + " 0 2M",
                "-c", "flush", "-c", "read -P " + pattern + " 0 2M", uri).assertOk();
        byte[] expected = new byte[4096];
        Arrays.fill(expected, (byte) pattern);
        assertArrayEquals(expected, Images.read(image, (1L << 20) + 8192, 4096), "the bytes are on the LUN's image");
        assertTrue(g.export("disk").paths().stream().allMatch(p -> p.requests() > 0), describe(g));
    }

    private static JsonNode admin(Gateway g) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                "http://127.0.0.1:" + g.adminAddress().getPort() + "/api/exports/disk")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return new ObjectMapper().readTree(r.body());
    }

    /** No secret in any log line so far, in any path's last error, or in the admin API's answer. */
    private void assertNoSecretShown(Gateway g) throws Exception {
        String adminText = admin(g).toString();
        List<String> lines = logs.lines();
        assertFalse(lines.isEmpty(), "nothing was captured: the capture itself is broken");
        for (String secret : SECRETS) {
            for (String line : lines) {
                assertFalse(line.contains(secret), "a secret in the log: " + line);
            }
            assertFalse(adminText.contains(secret), "a secret in the admin API: " + adminText);
            for (io.mpathnbd.core.path.Path p : g.export("disk").paths()) {
                String e = p.lastError();
                assertFalse(e != null && e.contains(secret), "a secret in a last error: " + e);
            }
        }
    }

    /**
     * A transparent TCP relay in front of the target that counts the connections made through it: the number of
     * login attempts as the target side sees them, independent of what the gateway logs. Not a fake: both ends are
     * the real gateway and the real tgtd.
     */
    private static final class ConnectionCounter implements AutoCloseable {
        private final ServerSocket server;
        private final InetSocketAddress target;
        private final AtomicInteger accepted = new AtomicInteger();
        private final ConcurrentLinkedQueue<Socket> sockets = new ConcurrentLinkedQueue<>();

        private ConnectionCounter(ServerSocket server, InetSocketAddress target) {
            this.server = server;
            this.target = target;
        }

        static ConnectionCounter start(InetSocketAddress target) throws Exception {
            ServerSocket s = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
            ConnectionCounter c = new ConnectionCounter(s, target);
            Thread t = new Thread(c::acceptLoop, "chap-test-relay");
            t.setDaemon(true);
            t.start();
            return c;
        }

        int port() {
            return server.getLocalPort();
        }

        int accepted() {
            return accepted.get();
        }

        private void acceptLoop() {
            while (!server.isClosed()) {
                try {
                    Socket in = server.accept();
                    accepted.incrementAndGet();
                    Socket out = new Socket(target.getAddress(), target.getPort());
                    sockets.add(in);
                    sockets.add(out);
                    pump(in, out);
                    pump(out, in);
                } catch (IOException e) {
                    // closed, or the target went away: the gateway sees its connection fail
                }
            }
        }

        private static void pump(Socket from, Socket to) {
            Thread t = new Thread(() -> {
                try {
                    from.getInputStream().transferTo(to.getOutputStream());
                } catch (IOException e) {
                    // one side closed
                } finally {
                    closeQuietly(from);
                    closeQuietly(to);
                }
            }, "chap-test-relay-pump");
            t.setDaemon(true);
            t.start();
        }

        private static void closeQuietly(Socket s) {
            try {
                s.close();
            } catch (IOException e) {
                // already closed
            }
        }

        @Override
        public void close() throws Exception {
            server.close();
            sockets.forEach(ConnectionCounter::closeQuietly);
        }
    }

    /**
     * Everything the gateway logs while a test runs (io.mpathnbd down to DEBUG, other loggers as configured),
     * messages with their exception traces, as the log files and consoles would show them.
     */
    private static final class LogCapture extends AppenderBase<ILoggingEvent> {
        private final ConcurrentLinkedQueue<ILoggingEvent> events = new ConcurrentLinkedQueue<>();
        private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        private final Logger project = (Logger) LoggerFactory.getLogger("io.mpathnbd");
        private Level projectLevel;

        void attach() {
            setContext(root.getLoggerContext());
            setName("chap-test-capture");
            start();
            projectLevel = project.getLevel();
            project.setLevel(Level.DEBUG);
            root.addAppender(this);
        }

        void detach() {
            root.detachAppender(this);
            project.setLevel(projectLevel);
            stop();
        }

        @Override
        protected void append(ILoggingEvent e) {
            e.prepareForDeferredProcessing();
            events.add(e);
        }

        List<String> lines() {
            List<String> out = new ArrayList<>();
            for (ILoggingEvent e : events) {
                String trace = e.getThrowableProxy() == null ? "" : "\n" + ThrowableProxyUtil.asString(
                        e.getThrowableProxy());
                out.add(e.getLevel() + " " + e.getLoggerName() + " - " + e.getFormattedMessage() + trace);
            }
            return out;
        }

        /** Login attempts the target refused for authentication: the initiator logs each one once. */
        int failedLogins() {
            int n = 0;
            for (ILoggingEvent e : events) {
                if (e.getLevel() == Level.WARN && e.getLoggerName().startsWith("io.mpathnbd.iscsi.session")
                        && e.getFormattedMessage().contains("refused: authentication failed (status 2/1)")) {
                    n++;
                }
            }
            return n;
        }
    }
}
