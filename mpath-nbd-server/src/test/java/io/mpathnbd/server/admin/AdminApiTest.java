package io.mpathnbd.server.admin;

import static io.mpathnbd.server.GatewayTestSupport.awaitState;
import static io.mpathnbd.server.GatewayTestSupport.alias;
import static io.mpathnbd.server.GatewayTestSupport.fileUri;
import static io.mpathnbd.server.GatewayTestSupport.http;
import static io.mpathnbd.server.GatewayTestSupport.image;
import static io.mpathnbd.server.GatewayTestSupport.nbdUri;
import static io.mpathnbd.server.GatewayTestSupport.writeAndVerify;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mpathnbd.core.export.Export;
import io.mpathnbd.core.path.PathState;
import io.mpathnbd.server.Gateway;
import io.mpathnbd.server.GatewayTestSupport;
import io.mpathnbd.testing.peers.Tools;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin API against a real gateway with two file: paths, and bad input of every kind (malformed or non-JSON
 * bodies, unknown or repeated fields, bodies where none belong, oversized bodies, odd characters in path ids):
 * each a clear 4xx with a JSON error, and nothing changed.
 */
class AdminApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static Path img;
    static Gateway gateway;

    @BeforeAll
    static void start() throws Exception {
        Tools.require("qemu-io");
        img = image(dir, "disk.img");
        gateway = GatewayTestSupport.twoPathGateway(img, null);
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("application/json"), r.toString());
        return JSON.readTree(r.body());
    }

    private static JsonNode ok(String method, String path, String body) throws Exception {
        HttpResponse<String> r = http(gateway, method, path, body);
        assertEquals(200, r.statusCode(), method + " " + path + " -> " + r.body());
        return json(r);
    }

    private static void error(String method, String path, String body, int status, String message)
            throws Exception {
        HttpResponse<String> r = http(gateway, method, path, body);
        assertEquals(status, r.statusCode(), method + " " + path + " -> " + r.body());
        assertEquals(message, json(r).path("error").asText(), r.body());
    }

    private static void errorStarting(String method, String path, String body, String prefix) throws Exception {
        HttpResponse<String> r = http(gateway, method, path, body);
        assertEquals(400, r.statusCode(), method + " " + path + " -> " + r.body());
        assertTrue(json(r).path("error").asText().startsWith(prefix), r.body());
    }

    @Test
    void listsExportsWithEveryField() throws Exception {
        JsonNode all = ok("GET", "/api/exports", null);
        assertEquals(1, all.size());
        JsonNode e = all.get(0);
        assertEquals(Set.of("name", "size", "ready", "description", "identity", "iopolicy", "failovers", "requeues",
                "held", "capabilities", "paths", "path-failures", "health", "health-reason", "read-only", "allow",
                "reservation"), fields(e));
        assertEquals("none", e.path("reservation").path("state").asText(), "no key configured");
        assertEquals(0, e.path("reservation").path("conflicts").asLong());
        assertFalse(e.get("read-only").asBoolean(), "no access settings: writable");
        assertEquals(0, e.get("allow").size(), "no access settings: no allow list");
        assertEquals("disk0", e.get("name").asText());
        assertEquals(GatewayTestSupport.IMAGE_SIZE, e.get("size").asLong());
        assertTrue(e.get("ready").asBoolean());
        assertEquals("numa", e.get("iopolicy").asText());
        assertEquals(0, e.get("held").asInt());
        assertTrue(e.get("capabilities").asText().contains("flush"), e.toString());
        JsonNode p0 = e.get("paths").get(0);
        assertTrue(fields(p0).containsAll(Set.of("id", "uri", "state", "access-state", "in-flight", "requests",
                "errors", "last-error", "registration", "description", "identity")), p0.toString());
        assertEquals("p0", p0.get("id").asText());
        assertEquals(fileUri(img), p0.get("uri").asText());
        assertEquals("optimized", p0.get("access-state").asText());
        assertEquals(0, p0.get("in-flight").asInt());
        JsonNode one = ok("GET", "/api/exports/disk0", null);
        assertEquals(fields(e), fields(one));
        assertEquals(e.get("size"), one.get("size"));
        assertEquals(ids(e.get("paths")), ids(one.get("paths")));
    }

    private static Set<String> fields(JsonNode n) {
        Set<String> s = new java.util.HashSet<>();
        n.fieldNames().forEachRemaining(s::add);
        return s;
    }

    @Test
    void failAndReinstateAreVisibleAndIoKeepsFlowing() throws Exception {
        Export e = gateway.export("disk0");
        JsonNode failed = ok("POST", "/api/exports/disk0/paths/p0/fail", null);
        assertEquals("p0", failed.get("id").asText());
        awaitState(e, "p0", PathState.DISABLED);
        assertEquals("disabled", ok("GET", "/api/exports/disk0", null).get("paths").get(0).get("state").asText());

        long p1Before = e.path("p1").requests();
        long p0Before = e.path("p0").requests();
        writeAndVerify(nbdUri(gateway, "disk0"), 4 << 20, 0x11).assertOk();
        assertEquals(p0Before, e.path("p0").requests(), "a failed path carries no I/O");
        assertTrue(e.path("p1").requests() > p1Before);

        ok("POST", "/api/exports/disk0/paths/p0/reinstate", null);
        awaitState(e, "p0", PathState.LIVE);
        assertEquals("live", ok("GET", "/api/exports/disk0/paths/p0", null).get("state").asText());
    }

    @Test
    void addAndRemoveAPath() throws Exception {
        Export e = gateway.export("disk0");
        HttpResponse<String> r = http(gateway, "POST", "/api/exports/disk0/paths",
                "{\"uri\": \"" + fileUri(alias(img, "extra.img")) + "\", \"id\": \"extra\"}");
        assertEquals(201, r.statusCode(), r.body());
        assertEquals("extra", json(r).get("id").asText());
        awaitState(e, "extra", PathState.LIVE);
        JsonNode paths = ok("GET", "/api/exports/disk0", null).get("paths");
        assertEquals(List.of("p0", "p1", "extra"), ids(paths));

        error("POST", "/api/exports/disk0/paths", "{\"uri\": \"" + fileUri(img) + "\", \"id\": \"extra\"}", 409,
                "export 'disk0' already has a path 'extra'");

        error("POST", "/api/exports/disk0/paths", "{\"uri\": \"" + fileUri(img) + "\", \"id\": \"again\"}", 400,
                "uri: '" + fileUri(img) + "' is the same backend as path p0 ('" + fileUri(img)
                        + "'): two paths to one backend give no redundancy");

        // without an id: the first free pN
        r = http(gateway, "POST", "/api/exports/disk0/paths",
                "{\"uri\": \"" + fileUri(alias(img, "p2.img")) + "\"}");
        assertEquals(201, r.statusCode(), r.body());
        assertEquals("p2", json(r).get("id").asText());

        JsonNode removed = ok("DELETE", "/api/exports/disk0/paths/extra", null);
        assertEquals("extra", removed.get("id").asText());
        ok("DELETE", "/api/exports/disk0/paths/p2", null);
        assertNull(e.path("extra"));
        assertEquals(List.of("p0", "p1"), ids(ok("GET", "/api/exports/disk0", null).get("paths")));
        writeAndVerify(nbdUri(gateway, "disk0"), 8 << 20, 0x22).assertOk();
    }

    private static List<String> ids(JsonNode paths) {
        List<String> out = new java.util.ArrayList<>();
        paths.forEach(p -> out.add(p.get("id").asText()));
        return out;
    }

    @Test
    void switchesTheIoPolicy() throws Exception {
        JsonNode r = ok("PUT", "/api/exports/disk0/iopolicy", "{\"iopolicy\": \"round-robin\"}");
        assertEquals("round-robin", r.get("iopolicy").asText());
        assertEquals("round-robin", gateway.export("disk0").ioPolicy());
        assertEquals("round-robin", ok("GET", "/api/exports/disk0", null).get("iopolicy").asText());
        ok("PUT", "/api/exports/disk0/iopolicy", "{\"iopolicy\": \"numa\"}");
        assertEquals("numa", gateway.export("disk0").ioPolicy());
    }

    @Test
    void unknownExportsAndPathsAre404() throws Exception {
        error("GET", "/api/exports/nope", null, 404, "no export named 'nope'");
        error("POST", "/api/exports/nope/paths/p0/fail", null, 404, "no export named 'nope'");
        error("POST", "/api/exports/disk0/paths/p9/fail", null, 404, "export 'disk0' has no path 'p9'");
        error("POST", "/api/exports/disk0/paths/p9/reinstate", null, 404, "export 'disk0' has no path 'p9'");
        error("DELETE", "/api/exports/disk0/paths/p9", null, 404, "export 'disk0' has no path 'p9'");
        error("GET", "/api/nothing", null, 404, "no such resource: /api/nothing (see GET / for the endpoints)");
        error("GET", "/api/exports/disk0/paths/p0/explode", null, 404,
                "no such resource: /api/exports/disk0/paths/p0/explode (see GET / for the endpoints)");
    }

    @Test
    void badInputIs400() throws Exception {
        String add = "/api/exports/disk0/paths";
        errorStarting("POST", add, "{\"uri\": ", "malformed JSON: Unexpected end-of-input");
        error("POST", add, "", 400, "missing JSON body (expected an object with uri, id)");
        error("POST", add, "[1]", 400, "expected a JSON object with uri, id");
        error("POST", add, "{\"url\": \"file:/x\"}", 400, "unknown field 'url' (expected uri, id)");
        error("POST", add, "{\"id\": \"x\"}", 400, "missing field 'uri'");
        error("POST", add, "{\"uri\": 5}", 400, "field 'uri' must be a non-empty string");
        error("POST", add, "{\"uri\": \"foo://x/y\"}", 400, "uri: unsupported scheme 'foo' (supported: file, iscsi, nbd, nbds)");
        error("POST", add, "{\"uri\": \"file:/x\", \"id\": \"a b\"}", 400,
                "id: 'a b' is not a valid path id (letters, digits, '.', '_', '-'; at most 64, starting with a"
                        + " letter or digit)");
        error("POST", add, "{\"uri\": \"file://elsewhere/x\"}", 400, "uri: file URI 'file://elsewhere/x' names"
                + " host 'elsewhere': only local files are supported (use file:/path or file:///path)");
        error("PUT", "/api/exports/disk0/iopolicy", "{\"iopolicy\": \"fastest\"}", 400,
                "unknown iopolicy 'fastest' (supported: numa, round-robin, queue-depth, service-time)");
        errorStarting("PUT", "/api/exports/disk0/iopolicy", "not json", "malformed JSON: Unrecognized token 'not'");
        error("DELETE", "/api/exports", null, 405, "method DELETE not allowed here (allowed: GET)");
        error("GET", "/api/exports/disk0/paths/p0/fail", null, 405, "method GET not allowed here (allowed: POST)");
        assertEquals(List.of("p0", "p1"), ids(ok("GET", "/api/exports/disk0", null).get("paths")),
                "nothing changed");
    }

    /** Paths p0 and p1, both live, iopolicy numa: what bad input must leave as it was. */
    private static void assertNothingChanged() throws Exception {
        Export e = gateway.export("disk0");
        assertEquals(List.of("p0", "p1"), ids(ok("GET", "/api/exports/disk0", null).get("paths")));
        assertEquals(PathState.LIVE, e.path("p0").state());
        assertEquals(PathState.LIVE, e.path("p1").state());
        assertEquals("numa", e.ioPolicy());
    }

    private static HttpResponse<String> typed(String method, String path, String body, String contentType)
            throws Exception {
        return http(gateway, method, path, body, Map.of("Content-Type", contentType));
    }

    @Test
    void aBodyThatSaysItIsNotJsonIs415() throws Exception {
        String add = "/api/exports/disk0/paths";
        String body = "{\"uri\": \"" + fileUri(alias(img, "typed.img")) + "\", \"id\": \"typed\"}";
        for (String type : List.of("text/plain", "application/x-www-form-urlencoded", "application/xml",
                "application/json-patch+json", "multipart/form-data; boundary=x")) {
            HttpResponse<String> r = typed("POST", add, body, type);
            assertEquals(415, r.statusCode(), type + " -> " + r.body());
            assertEquals("Content-Type '" + type + "' is not JSON: send Content-Type: application/json",
                    json(r).path("error").asText());
        }
        HttpResponse<String> latin = typed("POST", add, body, "application/json; charset=ISO-8859-1");
        assertEquals(415, latin.statusCode(), latin.body());
        assertEquals("charset ISO-8859-1 is not supported: JSON is UTF-8", json(latin).path("error").asText());
        HttpResponse<String> policy = typed("PUT", "/api/exports/disk0/iopolicy", "{\"iopolicy\": \"round-robin\"}",
                "text/plain");
        assertEquals(415, policy.statusCode(), policy.body());
        assertNothingChanged();

        // JSON in any spelling, with or without the charset, is fine
        for (String type : List.of("application/json", "Application/JSON", "application/json; charset=UTF-8")) {
            HttpResponse<String> r = typed("PUT", "/api/exports/disk0/iopolicy", "{\"iopolicy\": \"numa\"}", type);
            assertEquals(200, r.statusCode(), type + " -> " + r.body());
        }
    }

    @Test
    void repeatedFieldsAndTrailingDataAre400() throws Exception {
        String add = "/api/exports/disk0/paths";
        String uri = fileUri(alias(img, "twice.img"));
        errorStarting("POST", add, "{\"uri\": \"" + uri + "\", \"uri\": \"" + uri + "-2\"}",
                "malformed JSON: Duplicate field 'uri'");
        errorStarting("PUT", "/api/exports/disk0/iopolicy", "{\"iopolicy\": \"numa\", \"iopolicy\": \"round-robin\"}",
                "malformed JSON: Duplicate field 'iopolicy'");
        error("PUT", "/api/exports/disk0/iopolicy", "{\"iopolicy\": \"round-robin\"} {\"iopolicy\": 1}", 400,
                "malformed JSON: more data after the object");
        error("PUT", "/api/exports/disk0/iopolicy", "{\"iopolicy\": \"round-robin\"} 7", 400,
                "malformed JSON: more data after the object");
        errorStarting("POST", add, "{\"uri\": \"" + uri + "\"}]", "malformed JSON: Unexpected close marker ']'");
        error("POST", add, "{\"uri\": \"" + uri + "\", \"id\": \"x\", \"distance\": 1}", 400,
                "unknown field 'distance' (expected uri, id)");
        error("PUT", "/api/exports/disk0/iopolicy", "{\"iopolicy\": [\"numa\"]}", 400,
                "field 'iopolicy' must be a non-empty string");
        error("PUT", "/api/exports/disk0/iopolicy", "{\"iopolicy\": \" \"}", 400,
                "field 'iopolicy' must be a non-empty string");
        assertNothingChanged();
    }

    @Test
    void actionsThatTakeNoBodyRefuseOne() throws Exception {
        error("POST", "/api/exports/disk0/paths/p0/fail", "{\"force\": true}", 400,
                "POST /api/exports/disk0/paths/p0/fail takes no body");
        error("POST", "/api/exports/disk0/paths/p1/reinstate", "now", 400,
                "POST /api/exports/disk0/paths/p1/reinstate takes no body");
        error("DELETE", "/api/exports/disk0/paths/p1", "{}", 400, "DELETE /api/exports/disk0/paths/p1 takes no body");
        assertNothingChanged();
    }

    /**
     * Path ids (and export names) are the caller's text: percent-encoded slashes, NUL, line breaks, blanks,
     * non-ASCII, dot segments, malformed escapes and very long ones are each a clear 4xx, never another path.
     */
    @Test
    void oddCharactersInPathIdsAreClear4xxAndTouchNothing() throws Exception {
        String longId = "p".repeat(3000);
        record Odd(String id, int status, String error) {
        }
        List<Odd> odd = List.of(
                new Odd("%00", 404, "export 'disk0' has no path '\u0000'"),
                new Odd("p0%0A", 404, "export 'disk0' has no path 'p0\n'"),
                new Odd("p0%0D%0AX-Injected:%20yes", 404, "export 'disk0' has no path 'p0\r\nX-Injected: yes'"),
                new Odd("%20p0", 404, "export 'disk0' has no path ' p0'"),
                new Odd("p0%2F..", 404, "export 'disk0' has no path 'p0/..'"),
                new Odd("..%2Fp1", 404, "export 'disk0' has no path '../p1'"),
                new Odd("%C3%A9", 404, "export 'disk0' has no path '\u00e9'"),
                new Odd("%FF", 404, "export 'disk0' has no path '\ufffd'"),
                // decoded once: the id "%30", not "0"
                new Odd("p%2530", 404, "export 'disk0' has no path 'p%30'"),
                new Odd(longId, 404, "export 'disk0' has no path '" + longId + "'"),
                new Odd("%ZZ", 400, null),
                new Odd("p0%", 400, null));
        for (Odd o : odd) {
            for (String action : List.of("/fail", "/reinstate", "")) {
                String method = action.isEmpty() ? "DELETE" : "POST";
                String answer = RawHttp.request(gateway, method, "/api/exports/disk0/paths/" + o.id() + action,
                        "Content-Length: 0");
                String what = method + " " + o.id() + action + " -> " + answer;
                assertEquals(o.status(), RawHttp.status(answer), what);
                JsonNode error = JSON.readTree(RawHttp.body(answer));
                if (o.error() != null) {
                    assertEquals(o.error(), error.path("error").asText(), what);
                } else {
                    assertTrue(error.path("error").asText().startsWith("malformed request path: "), what);
                }
                assertFalse(answer.contains("\r\nX-Injected"), "a header from the path: " + what);
            }
        }
        assertNothingChanged();
        // the same oddities in an export name
        String answer = RawHttp.request(gateway, "GET", "/api/exports/disk0%00");
        assertEquals(404, RawHttp.status(answer), answer);
        assertEquals("no export named 'disk0\u0000'", JSON.readTree(RawHttp.body(answer)).path("error").asText());
        answer = RawHttp.request(gateway, "GET", "/api/exports/%2E%2E/paths");
        assertEquals(404, RawHttp.status(answer), answer);
    }

    @Test
    void oversizedBodiesAndGarbageDoNotHurt() throws Exception {
        HttpResponse<String> r = http(gateway, "POST", "/api/exports/disk0/paths",
                "{\"uri\": \"" + "x".repeat(200_000) + "\"}");
        assertEquals(413, r.statusCode());
        assertEquals("request body larger than 64 KiB: admin requests are small JSON objects",
                json(r).path("error").asText(), r.body());
        // just over the limit, sent in chunks (no Content-Length to refuse it by)
        String chunk = "x".repeat(16 * 1024);
        StringBuilder chunked = new StringBuilder("PUT /api/exports/disk0/iopolicy HTTP/1.1\r\nHost: x\r\n"
                + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < 5; i++) {
            chunked.append(Integer.toHexString(chunk.length())).append("\r\n").append(chunk).append("\r\n");
        }
        chunked.append("0\r\n\r\n");
        String tooLong = RawHttp.exchange(gateway, chunked.toString());
        assertEquals(413, RawHttp.status(tooLong), tooLong);
        assertTrue(RawHttp.body(tooLong).contains("request body larger than 64 KiB"), tooLong);
        assertNothingChanged();
        // raw garbage on the socket: the connection is answered or closed, the server lives on
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), gateway.adminAddress().getPort())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write("\u0000\u0001GARBAGE /\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            String answer = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(answer.isEmpty() || answer.startsWith("HTTP/1.1 400"), answer);
        }
        assertEquals("disk0", ok("GET", "/api/exports", null).get(0).get("name").asText());
    }

    @Test
    void healthAndMetrics() throws Exception {
        HttpResponse<String> h = http(gateway, "GET", "/health", null);
        assertEquals(200, h.statusCode(), h.body());
        assertEquals("ok", json(h).get("status").asText());
        JsonNode disk0 = json(h).get("exports").get("disk0");
        assertEquals("serving", disk0.get("state").asText(), h.body());
        assertEquals(2, disk0.get("usable-paths").asInt(), h.body());
        assertEquals(2, disk0.get("paths").asInt(), h.body());
        assertFalse(disk0.has("reason"), h.body());
        HttpResponse<String> one = http(gateway, "GET", "/health/disk0", null);
        assertEquals(200, one.statusCode(), one.body());
        assertEquals(disk0, json(one).get("exports").get("disk0"));
        error("GET", "/health/nosuch", null, 404, "no export named 'nosuch'");
        HttpResponse<String> m = http(gateway, "GET", "/metrics", null);
        assertEquals(200, m.statusCode());
        assertTrue(m.headers().firstValue("content-type").orElse("").startsWith("text/plain"), m.toString());
        assertTrue(m.body().contains("mpath_path_state{"), "metrics exposition");
        JsonNode index = ok("GET", "/", null);
        assertTrue(index.get("endpoints").toString().contains("GET /api/exports"));
        assertFalse(index.get("endpoints").isEmpty());
    }
}
