package io.mpathnbd.server.admin;

import static io.mpathnbd.server.GatewayTestSupport.alias;
import static io.mpathnbd.server.GatewayTestSupport.awaitState;
import static io.mpathnbd.server.GatewayTestSupport.fileUri;
import static io.mpathnbd.server.GatewayTestSupport.http;
import static io.mpathnbd.server.GatewayTestSupport.image;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mpathnbd.core.export.Export;
import io.mpathnbd.core.path.PathState;
import io.mpathnbd.server.Gateway;
import io.mpathnbd.server.GatewayTestSupport;
import io.mpathnbd.server.LogCapture;
import io.mpathnbd.server.config.ConfigException;
import io.mpathnbd.server.config.GatewayConfig;
import io.mpathnbd.testing.peers.FreePort;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin API with {@code admin-auth}, on a real gateway over two file: paths, over real HTTP: without the
 * token, with a wrong one and with the right one, for reads and changes; the {@code open} levels; a refused request
 * changes nothing, learns nothing (not even whether an export exists) and has its body left unread; the token
 * reaches no log line, answer or metric; and the gateway refuses to start an unauthenticated admin API off loopback.
 */
class AdminAuthTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "aT0k3n-for-the-admin-API-J2mX9qLw";
    private static final String WRONG = "not-the-admin-token-R5vB8nKc";
    private static final String REALM = "Bearer realm=\"mpath-nbd\"";
    private static final String NEEDS_TOKEN = "this request needs the admin token: send 'Authorization: Bearer"
            + " TOKEN' with the token of the gateway's admin-auth token-file";
    private static final String NOT_THE_TOKEN = "the admin token sent is not the gateway's";
    private static final Map<String, String> RIGHT = Map.of("Authorization", "Bearer " + TOKEN);

    private static final LogCapture LOGS = new LogCapture();

    @TempDir
    static Path dir;
    static Path img;
    static Path tokenFile;
    /** open: none (the default) */
    static Gateway gateway;

    @BeforeAll
    static void start() throws Exception {
        LOGS.attach();
        img = image(dir, "disk.img");
        tokenFile = dir.resolve("admin.token");
        Files.writeString(tokenFile, TOKEN + "\n");
        gateway = GatewayTestSupport.twoPathGatewayWith(img, "admin-auth:\n  token-file: " + tokenFile + "\n");
    }

    @AfterAll
    static void stop() {
        try {
            if (gateway != null) {
                gateway.close();
            }
        } finally {
            LOGS.detach();
        }
    }

    /** A request of each kind the API has, with a body where it takes one. */
    private record Call(String method, String path, String body) {
        @Override
        public String toString() {
            return method + " " + path;
        }
    }

    private static List<Call> everyEndpoint() {
        String uri = fileUri(alias(img, "extra.img"));
        return List.of(
                new Call("GET", "/", null),
                new Call("GET", "/api/exports", null),
                new Call("GET", "/api/exports/disk0", null),
                new Call("GET", "/api/exports/disk0/paths", null),
                new Call("GET", "/api/exports/disk0/paths/p0", null),
                new Call("GET", "/api/exports/disk0/iopolicy", null),
                new Call("GET", "/metrics", null),
                new Call("GET", "/health", null),
                new Call("GET", "/health/disk0", null),
                new Call("POST", "/api/exports/disk0/paths/p0/fail", null),
                new Call("POST", "/api/exports/disk0/paths/p0/reinstate", null),
                new Call("POST", "/api/exports/disk0/paths", "{\"uri\": \"" + uri + "\", \"id\": \"extra\"}"),
                new Call("DELETE", "/api/exports/disk0/paths/p1", null),
                new Call("PUT", "/api/exports/disk0/iopolicy", "{\"iopolicy\": \"round-robin\"}"),
                // a caller without the token learns not even which exports exist
                new Call("GET", "/api/exports/no-such-export", null),
                new Call("GET", "/no/such/resource", null));
    }

    private static HttpResponse<String> send(Gateway g, Call c, Map<String, String> headers) throws Exception {
        Map<String, String> h = new java.util.HashMap<>(headers);
        if (c.body() != null) {
            h.put("Content-Type", "application/json");
        }
        return http(g, c.method(), c.path(), c.body(), h);
    }

    private static void assertRefused(HttpResponse<String> r, String message, String challenge, String what)
            throws Exception {
        assertEquals(401, r.statusCode(), what + " -> " + r.body());
        assertEquals(challenge, r.headers().firstValue("www-authenticate").orElse(null), what);
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("application/json"), what);
        assertEquals(message, JSON.readTree(r.body()).path("error").asText(), what + " -> " + r.body());
    }

    /** Both paths live, iopolicy numa, no third path: what a refused change must leave as it was. */
    private static void assertUnchanged(Gateway g) {
        Export e = g.export("disk0");
        assertEquals(List.of("p0", "p1"), e.paths().stream().map(io.mpathnbd.core.path.Path::id).toList());
        assertEquals(PathState.LIVE, e.path("p0").state());
        assertEquals(PathState.LIVE, e.path("p1").state());
        assertEquals("numa", e.ioPolicy());
    }

    @Test
    void withoutTheTokenOrWithAWrongOneEveryRequestIsRefusedAndNothingChanges() throws Exception {
        double missingBefore = unauthorized("missing-token");
        double wrongBefore = unauthorized("wrong-token");
        List<Call> calls = everyEndpoint();
        for (Call c : calls) {
            assertRefused(send(gateway, c, Map.of()), NEEDS_TOKEN, REALM, c + " without a token");
            assertRefused(send(gateway, c, Map.of("Authorization", "Basic " + TOKEN)), NEEDS_TOKEN, REALM,
                    c + " with Basic");
            assertRefused(send(gateway, c, Map.of("Authorization", "Bearer")), NEEDS_TOKEN, REALM,
                    c + " with an empty Bearer");
            String invalid = REALM + ", error=\"invalid_token\"";
            assertRefused(send(gateway, c, Map.of("Authorization", "Bearer " + WRONG)), NOT_THE_TOKEN, invalid,
                    c + " with a wrong token");
            assertRefused(send(gateway, c, Map.of("Authorization", "Bearer " + TOKEN.substring(1))), NOT_THE_TOKEN,
                    invalid, c + " with a token one character short");
            assertRefused(send(gateway, c, Map.of("Authorization", "Bearer " + TOKEN + "x")), NOT_THE_TOKEN,
                    invalid, c + " with a token one character long");
        }
        assertUnchanged(gateway);
        assertEquals(missingBefore + 3 * calls.size(), unauthorized("missing-token"));
        assertEquals(wrongBefore + 3 * calls.size(), unauthorized("wrong-token"));
    }

    @Test
    void headWithoutTheTokenIsRefusedWithoutABody() throws Exception {
        HttpResponse<String> r = http(gateway, "HEAD", "/health", null);
        assertEquals(401, r.statusCode());
        assertEquals(REALM, r.headers().firstValue("www-authenticate").orElse(null));
        assertEquals("", r.body());
        assertEquals(200, http(gateway, "HEAD", "/health", null, RIGHT).statusCode());
    }

    @Test
    void theRightTokenServesReadsAndChanges() throws Exception {
        Export e = gateway.export("disk0");
        HttpResponse<String> list = http(gateway, "GET", "/api/exports", null, RIGHT);
        assertEquals(200, list.statusCode(), list.body());
        assertEquals("disk0", JSON.readTree(list.body()).get(0).path("name").asText());
        // the scheme is case-insensitive (RFC 7235)
        assertEquals(200, http(gateway, "GET", "/health", null, Map.of("Authorization", "bearer " + TOKEN))
                .statusCode());
        HttpResponse<String> metrics = http(gateway, "GET", "/metrics", null, RIGHT);
        assertEquals(200, metrics.statusCode());
        assertTrue(metrics.body().contains("mpath_admin_unauthorized_total{"), "the refusal counter is shown");

        assertEquals(200, http(gateway, "POST", "/api/exports/disk0/paths/p0/fail", null, RIGHT).statusCode());
        awaitState(e, "p0", PathState.DISABLED);
        assertEquals(200, http(gateway, "POST", "/api/exports/disk0/paths/p0/reinstate", null, RIGHT).statusCode());
        awaitState(e, "p0", PathState.LIVE);

        HttpResponse<String> policy = http(gateway, "PUT", "/api/exports/disk0/iopolicy",
                "{\"iopolicy\": \"queue-depth\"}", RIGHT);
        assertEquals(200, policy.statusCode(), policy.body());
        assertEquals("queue-depth", e.ioPolicy());
        http(gateway, "PUT", "/api/exports/disk0/iopolicy", "{\"iopolicy\": \"numa\"}", RIGHT);

        HttpResponse<String> added = http(gateway, "POST", "/api/exports/disk0/paths",
                "{\"uri\": \"" + fileUri(alias(img, "added.img")) + "\", \"id\": \"added\"}", RIGHT);
        assertEquals(201, added.statusCode(), added.body());
        awaitState(e, "added", PathState.LIVE);
        assertEquals(200, http(gateway, "DELETE", "/api/exports/disk0/paths/added", null, RIGHT).statusCode());
        assertNull(e.path("added"));
        assertUnchanged(gateway);
    }

    /**
     * The head decides: a refused request is answered at once, without waiting for a body it announced, and its
     * connection ends (the client may still be sending). An accepted request's body would be awaited.
     */
    @Test
    void aRefusedRequestsBodyIsNotWaitedFor() throws Exception {
        String head = "POST /api/exports/disk0/paths HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Content-Length: 1000\r\n\r\n{\"uri\": ";
        String answer = RawHttp.exchange(gateway, head);
        assertTrue(answer.startsWith("HTTP/1.1 401 Unauthorized\r\n"), answer);
        assertTrue(answer.toLowerCase().contains("\r\nconnection: close\r\n"), answer);
        assertTrue(answer.contains(NEEDS_TOKEN), answer);
        assertUnchanged(gateway);
    }

    @Test
    void openHealthServesOnlyTheHealthEndpointsWithoutTheToken() throws Exception {
        try (Gateway g = GatewayTestSupport.twoPathGatewayWith(alias(img, "health.img"),
                "admin-auth:\n  token-file: " + tokenFile + "\n  open: health\n")) {
            for (Call c : everyEndpoint()) {
                HttpResponse<String> r = send(g, c, Map.of());
                if (c.path().startsWith("/health")) {
                    assertEquals(200, r.statusCode(), c + " -> " + r.body());
                } else {
                    assertRefused(r, NEEDS_TOKEN, REALM, c.toString());
                }
            }
            assertEquals(200, http(g, "GET", "/metrics", null, RIGHT).statusCode());
            assertUnchanged(g);
        }
    }

    @Test
    void openReadsServesEveryGetWithoutTheTokenAndNoChange() throws Exception {
        try (Gateway g = GatewayTestSupport.twoPathGatewayWith(alias(img, "reads.img"),
                "admin-auth:\n  token-file: " + tokenFile + "\n  open: reads\n")) {
            for (Call c : everyEndpoint()) {
                HttpResponse<String> r = send(g, c, Map.of());
                if (c.method().equals("GET")) {
                    assertTrue(r.statusCode() == 200 || r.statusCode() == 404, c + " -> " + r.statusCode());
                    assertEquals(c.path().startsWith("/api/exports/no-such") || c.path().startsWith("/no/"),
                            r.statusCode() == 404, c + " -> " + r.statusCode());
                } else {
                    assertRefused(r, NEEDS_TOKEN, REALM, c.toString());
                    assertRefused(send(g, c, Map.of("Authorization", "Bearer " + WRONG)), NOT_THE_TOKEN,
                            REALM + ", error=\"invalid_token\"", c.toString());
                }
            }
            assertUnchanged(g);
            assertEquals(200, http(g, "POST", "/api/exports/disk0/paths/p1/fail", null, RIGHT).statusCode());
            awaitState(g.export("disk0"), "p1", PathState.DISABLED);
        }
    }

    @Test
    void openAllMeansNoAuthenticationAtAll() throws Exception {
        try (Gateway g = GatewayTestSupport.twoPathGatewayWith(alias(img, "all.img"), "admin-auth:\n  open: all\n")) {
            assertEquals(200, http(g, "GET", "/api/exports", null).statusCode());
            assertEquals(200, http(g, "POST", "/api/exports/disk0/paths/p1/fail", null).statusCode());
            // a token is not even looked at
            assertEquals(200, http(g, "POST", "/api/exports/disk0/paths/p1/reinstate", null,
                    Map.of("Authorization", "Bearer " + WRONG)).statusCode());
        }
    }

    @Test
    void theTokenIsNeverShown() throws Exception {
        // a refusal of each kind, and accepted requests, so that every code path has logged what it logs
        http(gateway, "GET", "/api/exports", null);
        http(gateway, "POST", "/api/exports/disk0/paths/p9/fail", null, Map.of("Authorization", "Bearer " + WRONG));
        http(gateway, "POST", "/api/exports/disk0/paths/p9/fail", null, RIGHT);
        http(gateway, "PUT", "/api/exports/disk0/iopolicy", "{\"iopolicy\": \"" + TOKEN + "\"}",
                Map.of("Authorization", "Bearer " + WRONG));
        List<String> shown = new ArrayList<>(LOGS.lines());
        assertTrue(shown.stream().anyMatch(l -> l.contains("admin API: refused a ")), "the capture works: "
                + shown);
        assertTrue(shown.stream().anyMatch(l -> l.contains("admin API on http://") && l.contains(
                "bearer token required")), "the start line says the token is required: " + shown);
        shown.add(gateway.config().toString());
        for (String path : List.of("/", "/api/exports", "/api/exports/disk0/paths/p0", "/metrics", "/health",
                "/api/exports/nope")) {
            shown.add(http(gateway, "GET", path, null, RIGHT).body());
            shown.add(http(gateway, "GET", path, null, Map.of("Authorization", "Bearer " + WRONG)).body());
            shown.add(http(gateway, "GET", path, null).body());
        }
        for (String text : shown) {
            assertFalse(text.contains(TOKEN), "the token is shown: " + text);
            assertFalse(text.contains(WRONG), "a presented token is shown: " + text);
        }
    }

    @Test
    void anUnauthenticatedAdminApiOffLoopbackIsRefusedBeforeAnythingListens() throws Exception {
        int nbd = FreePort.next();
        String exports = "exports:\n  - name: disk0\n    paths: [" + fileUri(img) + "]\n";
        for (String admin : List.of("0.0.0.0:0", "\"[::]:0\"")) {
            ConfigException e = assertThrows(ConfigException.class, () -> Gateway.start(GatewayConfig.parse(
                    "listen: 127.0.0.1:" + nbd + "\nadmin: " + admin + "\n" + exports)));
            String shownAdmin = admin.replace("\"", "");
            assertEquals("admin: " + shownAdmin + " can be reached from other machines, and the admin API has no"
                    + " authentication (whoever reaches it could fail, add and remove paths). Give it a token:"
                    + " admin-auth: {token-file: FILE} in the config file, or serve --admin-token-file FILE, with a"
                    + " FILE made by `head -c 32 /dev/urandom | base64 > FILE`; or listen on 127.0.0.1; or, where a"
                    + " network you control guards the port, say admin-auth: {open: all}", e.getMessage());
            assertThrows(ConnectException.class, () -> new Socket(InetAddress.getLoopbackAddress(), nbd).close(),
                    "nothing listens after the refusal");
        }
    }

    @Test
    void offLoopbackTheGatewayStartsWithATokenOrAnExplicitOpenAll() throws Exception {
        try (Gateway g = GatewayTestSupport.twoPathGatewayWith(alias(img, "any-token.img"),
                "admin: 0.0.0.0:0\nadmin-auth:\n  token-file: " + tokenFile + "\n")) {
            assertTrue(g.adminAddress().getAddress().isAnyLocalAddress());
            assertEquals(401, http(g, "GET", "/api/exports", null).statusCode());
            assertEquals(200, http(g, "GET", "/api/exports", null, RIGHT).statusCode());
        }
        try (Gateway g = GatewayTestSupport.twoPathGatewayWith(alias(img, "any-open.img"),
                "admin: 0.0.0.0:0\nadmin-auth:\n  open: all\n")) {
            assertEquals(200, http(g, "GET", "/api/exports", null).statusCode());
            assertTrue(LOGS.lines().stream().anyMatch(l -> l.startsWith("WARN") && l.contains(
                    "reachable from other machines, without authentication (admin-auth open: all)")), LOGS.lines()
                    .toString());
        }
    }

    /** mpath_admin_unauthorized_total{reason=...} as /metrics shows it. */
    private static double unauthorized(String reason) throws Exception {
        String text = http(gateway, "GET", "/metrics", null, RIGHT).body();
        Matcher m = Pattern.compile("(?m)^mpath_admin_unauthorized_total\\{reason=\"" + reason + "\"\\} (\\S+)$")
                .matcher(text);
        assertTrue(m.find(), "no refusal counter for " + reason + " in\n" + text);
        return Double.parseDouble(m.group(1));
    }
}
