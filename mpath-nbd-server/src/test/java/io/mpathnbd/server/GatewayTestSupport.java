package io.mpathnbd.server;

import static org.junit.jupiter.api.Assertions.fail;

import io.mpathnbd.core.export.Export;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.path.PathState;
import io.mpathnbd.server.config.GatewayConfig;
import io.mpathnbd.testing.peers.Images;
import io.mpathnbd.testing.peers.Tools;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/** Starting real gateways over file: paths, and talking to them, for the process tests. */
public final class GatewayTestSupport {
    public static final long IMAGE_SIZE = 64L << 20;
    public static final Duration TOOL_TIMEOUT = Duration.ofSeconds(60);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private GatewayTestSupport() {
    }

    /** A sparse 64 MiB image in {@code dir}. */
    public static java.nio.file.Path image(java.nio.file.Path dir, String name) {
        return Images.sparse(dir, name, IMAGE_SIZE);
    }

    /** The {@code file:} URI of an image. */
    public static String fileUri(java.nio.file.Path image) {
        return image.toAbsolutePath().toUri().toString();
    }

    /**
     * A second name for {@code image} (a symbolic link {@code name} beside it), so that two file: paths reach one
     * disk: the gateway refuses the same URI twice in an export, as it gives no redundancy.
     */
    public static java.nio.file.Path alias(java.nio.file.Path image, String name) {
        java.nio.file.Path link = image.resolveSibling(name);
        try {
            if (!java.nio.file.Files.isSymbolicLink(link)) {
                java.nio.file.Files.createSymbolicLink(link, image.getFileName());
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return link;
    }

    /**
     * A gateway on ephemeral loopback ports with export {@code disk0} over two file: paths (p0 to the image, p1 to
     * its {@link #alias} {@code <image>-b}), ready (both paths live) when this returns.
     */
    public static Gateway twoPathGateway(java.nio.file.Path image, String iopolicy) throws Exception {
        String uri = fileUri(image);
        String second = fileUri(alias(image, image.getFileName() + "-b"));
        GatewayConfig c = GatewayConfig.inline("127.0.0.1:0", "127.0.0.1:0", List.of("disk0=" + uri + "," + second),
                iopolicy);
        Gateway g = Gateway.start(c);
        try {
            awaitReady(g.export("disk0"));
            awaitState(g.export("disk0"), "p0", PathState.LIVE);
            awaitState(g.export("disk0"), "p1", PathState.LIVE);
        } catch (Throwable t) {
            g.close();
            throw t;
        }
        return g;
    }

    /**
     * Like {@link #twoPathGateway}, from a YAML config whose top level starts with {@code topLevel} (e.g. an
     * {@code admin-auth:} section, or {@code admin:} to override the loopback one).
     */
    public static Gateway twoPathGatewayWith(java.nio.file.Path image, String topLevel) throws Exception {
        boolean admin = java.util.regex.Pattern.compile("(?m)^admin:").matcher(topLevel).find();
        String yaml = topLevel
                + (admin ? "" : "admin: 127.0.0.1:0\n")
                + "listen: 127.0.0.1:0\n"
                + "exports:\n  - name: disk0\n    paths:\n"
                + "      - " + fileUri(image) + "\n"
                + "      - " + fileUri(alias(image, image.getFileName() + "-b")) + "\n";
        Gateway g = Gateway.start(GatewayConfig.parse(yaml));
        try {
            awaitReady(g.export("disk0"));
            awaitState(g.export("disk0"), "p0", PathState.LIVE);
            awaitState(g.export("disk0"), "p1", PathState.LIVE);
        } catch (Throwable t) {
            g.close();
            throw t;
        }
        return g;
    }

    public static void awaitReady(Export e) {
        await("export " + e.name() + " ready", Duration.ofSeconds(20), e::ready);
    }

    public static void awaitState(Export e, String pathId, PathState state) {
        await("path " + e.name() + "/" + pathId + " " + state, Duration.ofSeconds(20), () -> {
            Path p = e.path(pathId);
            return p != null && p.state() == state;
        });
    }

    public static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after " + timeout + " waiting for " + what);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                fail("interrupted waiting for " + what);
            }
        }
    }

    /** {@code nbd://127.0.0.1:PORT/EXPORT} of a gateway. */
    public static String nbdUri(Gateway g, String export) {
        return "nbd://127.0.0.1:" + g.nbdAddress().getPort() + "/" + export;
    }

    /** {@code 127.0.0.1:PORT} of a gateway's admin API, as the CLI's --admin takes it. */
    public static String adminAddress(Gateway g) {
        return "127.0.0.1:" + g.adminAddress().getPort();
    }

    /** qemu-io writes {@code pattern} over the first MiB at {@code offset} and reads it back with a check. */
    public static Tools.Result writeAndVerify(String uri, long offset, int pattern) {
        String p = String.format("0x%02x", pattern);
        return Tools.run(TOOL_TIMEOUT, "qemu-io", "-f", "raw",
                "-c", "write -P " + p + " " + offset + " 1M",
                "-c", "read -P " + p + " " + offset + " 1M",
                uri);
    }

    /** qemu-io reads 1 MiB at {@code offset} and checks it is all {@code pattern}. */
    public static Tools.Result verify(String uri, long offset, int pattern) {
        return Tools.run(TOOL_TIMEOUT, "qemu-io", "-f", "raw", "-r",
                "-c", String.format("read -P 0x%02x %d 1M", pattern, offset), uri);
    }

    /** One HTTP request to a gateway's admin API. */
    public static HttpResponse<String> http(Gateway g, String method, String path, String body) throws Exception {
        return http(g, method, path, body, Map.of());
    }

    /** One HTTP request to a gateway's admin API with these headers, e.g. Authorization or Content-Type. */
    public static HttpResponse<String> http(Gateway g, String method, String path, String body,
            Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + adminAddress(g) + path))
                .timeout(Duration.ofSeconds(30));
        headers.forEach(b::header);
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body));
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
