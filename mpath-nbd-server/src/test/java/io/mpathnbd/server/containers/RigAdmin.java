package io.mpathnbd.server.containers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The gateway's admin API as a client on this host sees it (GET /api/exports/{name}, /health), with the rig's
 * admin token; {@link #status()} runs the CLI with it in a token file, as a user would.
 */
final class RigAdmin {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String base;
    private final String hostPort;
    private final String token;
    private final Path tokenFile;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    /** @param token null: send none */
    RigAdmin(String host, int port, String token) {
        this.hostPort = host + ":" + port;
        this.base = "http://" + hostPort;
        this.token = token;
        if (token == null) {
            this.tokenFile = null;
            return;
        }
        try {
            this.tokenFile = Files.createTempFile("rig-admin-", ".token",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tokenFile, token + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        tokenFile.toFile().deleteOnExit();
    }

    String base() {
        return base;
    }

    /** One export as {@code GET /api/exports/{name}} shows it. */
    JsonNode export(String name) {
        return get("/api/exports/" + name);
    }

    /** The path with this id in an export view. */
    static JsonNode path(JsonNode export, String id) {
        for (JsonNode p : export.path("paths")) {
            if (id.equals(p.path("id").asText())) {
                return p;
            }
        }
        throw new AssertionError("no path '" + id + "' in " + export);
    }

    static String state(JsonNode export, String id) {
        return path(export, id).path("state").asText();
    }

    static long requests(JsonNode export, String id) {
        return path(export, id).path("requests").asLong();
    }

    /** HTTP status of GET /health. */
    int health() {
        return send("/health").statusCode();
    }

    /** HTTP status of GET {@code path} with {@code bearer} as the token (null: none), not the rig's. */
    int statusAs(String path, String bearer) {
        return send(path, bearer).statusCode();
    }

    /** Waits until the admin API answers at all (the gateway container may still be starting), at most 60 s. */
    void awaitUp() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try {
                health();
                return;
            } catch (AssertionError notYet) {
                if (System.nanoTime() > deadline) {
                    throw notYet;
                }
                Thread.sleep(200);
            }
        }
    }

    /** {@code mpath-nbd status --admin HOST:PORT --admin-token-file FILE}, run in this JVM as a user would. */
    String status() {
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        List<String> args = new ArrayList<>(List.of("status", "--admin", hostPort));
        if (tokenFile != null) {
            args.addAll(List.of("--admin-token-file", tokenFile.toString()));
        }
        int code = io.mpathnbd.server.cli.Main.execute(new java.io.PrintWriter(out, true),
                new java.io.PrintWriter(err, true), args.toArray(String[]::new));
        org.junit.jupiter.api.Assertions.assertEquals(0, code, err.toString());
        return out.toString();
    }

    /**
     * Polls the export until {@code condition} holds and returns that view; fails after {@code timeout} with every
     * distinct view seen on the way.
     */
    JsonNode await(String export, Predicate<JsonNode> condition, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<String> seen = new ArrayList<>();
        while (true) {
            JsonNode view = export(export);
            if (condition.test(view)) {
                return view;
            }
            String summary = summary(view);
            if (seen.isEmpty() || !seen.get(seen.size() - 1).equals(summary)) {
                seen.add(summary);
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("waited " + timeout + " for " + what + "; the admin API showed:\n  "
                        + String.join("\n  ", seen) + "\nlast view: " + view);
            }
            sleep(100);
        }
    }

    /** The path states of an export view, e.g. {@code nbd-a=live nbd-b=failed (connect failed: ...)}. */
    static String summary(JsonNode export) {
        StringBuilder sb = new StringBuilder();
        for (JsonNode p : export.path("paths")) {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            sb.append(p.path("id").asText()).append('=').append(p.path("state").asText());
            String error = p.path("last-error").asText("");
            if (!p.path("state").asText().equals("live") && !error.isEmpty() && !error.equals("null")) {
                sb.append(" (").append(error).append(')');
            }
        }
        return sb.append(" failovers=").append(export.path("failovers").asLong()).toString();
    }

    private JsonNode get(String path) {
        HttpResponse<String> r = send(path);
        if (r.statusCode() != 200) {
            throw new AssertionError("GET " + base + path + " answered " + r.statusCode() + ": " + r.body());
        }
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new AssertionError("GET " + base + path + " answered no JSON: " + r.body(), e);
        }
    }

    private HttpResponse<String> send(String path) {
        return send(path, token);
    }

    private HttpResponse<String> send(String path, String bearer) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(5)).GET();
        if (bearer != null) {
            b.header("Authorization", "Bearer " + bearer);
        }
        HttpRequest request = b.build();
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new AssertionError("GET " + base + path + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
