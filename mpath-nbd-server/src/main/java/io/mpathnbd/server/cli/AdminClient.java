package io.mpathnbd.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mpathnbd.server.config.ConfigException;
import io.mpathnbd.server.config.HostPort;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A small client of the gateway's admin API for the CLI commands, sending the bearer token when it has one. Errors
 * become {@link CliException}s; none of them shows the token.
 */
final class AdminClient {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(3);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

    private final String address;
    private final String base;
    private final HttpClient http;
    private final String authorization;
    /** Where the token came from (a file, or the variable), for messages; null without a token. */
    private final String tokenSource;

    /**
     * @param address {@code HOST:PORT} or {@code http://HOST:PORT} for HTTP, {@code https://HOST:PORT} for HTTPS
     * @param token   null: send none
     * @param caFile  HTTPS only: PEM CA certificates to trust instead of the JVM's, or null
     */
    AdminClient(String address, byte[] token, String tokenSource, String caFile) {
        boolean https = address.startsWith("https://");
        String hostPort = https ? address.substring(8)
                : address.startsWith("http://") ? address.substring(7) : address;
        if (caFile != null && !https) {
            throw CliException.usage("--admin-ca-file is for an admin API served over HTTPS: give --admin"
                    + " https://HOST:PORT");
        }
        HostPort hp;
        try {
            hp = HostPort.parse("--admin", hostPort);
        } catch (ConfigException e) {
            throw CliException.usage(e.getMessage());
        }
        String host = hp.host().equals("0.0.0.0") ? "127.0.0.1" : hp.host().equals("::") ? "::1" : hp.host();
        this.address = (https ? "https://" : "") + hp;
        this.base = (https ? "https://" : "http://") + new HostPort(host, hp.port());
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT);
        if (https) {
            builder.sslContext(AdminTrust.context(caFile));
        }
        this.http = builder.build();
        this.authorization = token == null ? null : "Bearer " + new String(token, StandardCharsets.US_ASCII);
        this.tokenSource = tokenSource;
    }

    JsonNode get(String... segments) {
        return send("GET", null, segments);
    }

    JsonNode post(JsonNode body, String... segments) {
        return send("POST", body, segments);
    }

    JsonNode put(JsonNode body, String... segments) {
        return send("PUT", body, segments);
    }

    JsonNode delete(String... segments) {
        return send("DELETE", null, segments);
    }

    private JsonNode send(String method, JsonNode body, String... segments) {
        StringBuilder path = new StringBuilder();
        for (String s : segments) {
            path.append('/').append(URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20"));
        }
        HttpRequest.BodyPublisher publisher = body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body.toString());
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .timeout(REQUEST_TIMEOUT)
                .header("Content-Type", "application/json")
                .header("Accept", "application/json")
                .method(method, publisher);
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        HttpRequest req = b.build();
        HttpResponse<String> resp;
        try {
            resp = http.send(req, HttpResponse.BodyHandlers.ofString());
        } catch (HttpConnectTimeoutException e) {
            throw unreachable("connection timed out", e);
        } catch (ConnectException e) {
            throw unreachable("connection refused", e);
        } catch (HttpTimeoutException e) {
            throw new CliException("the admin API at " + address + " did not answer " + method + " " + path
                    + " within " + REQUEST_TIMEOUT.toSeconds() + "s", e);
        } catch (javax.net.ssl.SSLException e) {
            throw new CliException("cannot reach the admin API at " + address + " over HTTPS: " + tlsReason(e)
                    + " (--admin-ca-file names the CA that signed the gateway's admin-tls certificate)", e);
        } catch (IOException e) {
            throw unreachable(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted", e);
        }
        JsonNode answer = parse(resp.body());
        if (resp.statusCode() == 401) {
            throw new CliException(tokenSource == null
                    ? "the admin API at " + address + " needs its token: give --admin-token-file FILE (the"
                            + " gateway's admin-auth token-file) or set " + AdminOption.TOKEN_ENV
                    : "the admin API at " + address + " refused the token from " + tokenSource
                            + ": it is not the gateway's admin token");
        }
        if (resp.statusCode() >= 400) {
            String msg = answer != null && answer.hasNonNull("error") ? answer.get("error").asText()
                    : "HTTP " + resp.statusCode();
            throw new ApiException(msg, resp.statusCode(), answer);
        }
        return answer;
    }

    /** The admin API answered with an error status; {@link #answer()} is its JSON (null when it had none). */
    static final class ApiException extends CliException {
        private final int status;
        private final transient JsonNode answer;

        ApiException(String message, int status, JsonNode answer) {
            super(message);
            this.status = status;
            this.answer = answer;
        }

        int status() {
            return status;
        }

        JsonNode answer() {
            return answer;
        }
    }

    private static String tlsReason(Exception e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }

    private CliException unreachable(String why, Exception e) {
        return new CliException("cannot reach the admin API at " + address + ": " + why
                + "; is the gateway running?", e);
    }

    private static JsonNode parse(String body) {
        if (body == null || body.isBlank()) {
            return null;
        }
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            return null;
        }
    }
}
