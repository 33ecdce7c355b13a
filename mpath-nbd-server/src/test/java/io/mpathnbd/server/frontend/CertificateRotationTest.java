package io.mpathnbd.server.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.Counter;
import io.mpathnbd.core.support.TestPki;
import io.mpathnbd.server.FioLoad;
import io.mpathnbd.server.Gateway;
import io.mpathnbd.server.GatewayTestSupport;
import io.mpathnbd.server.metrics.MeterNames;
import io.mpathnbd.testing.peers.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Certificate rotation on a running gateway under a fio load over TLS: a renewed server certificate, then a switch to
 * a new CA. Each new set is taken for new connections (a client trusting only the old CA is refused after the
 * switch, one trusting the new CA is served), a broken set is never used, and the fio session that started before
 * keeps running without an error.
 */
class CertificateRotationTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void rotatedCertificatesReachNewClientsWhileFioKeepsRunning() throws Exception {
        TestPki oldCa = new TestPki("old-ca");
        Path live = oldCa.writeDirectory(dir.resolve("live"), oldCa.server(), null);
        Path oldClient = oldCa.writeDirectory(dir.resolve("home-old/.pki/libnbd"), null, oldCa.client("c1"));
        Gateway g = GatewayTestSupport.twoPathGatewayWith(GatewayTestSupport.image(dir, "disk.img"),
                "tls:\n  mode: required\n  certificates: " + live + "\n  client-certificates: optional\n"
                        + "  reload-interval: 200ms\n");
        try (FioLoad fio = FioLoad.start(dir, "tls-load", "nbds://127.0.0.1:" + g.nbdAddress().getPort() + "/disk0",
                16L << 20, Map.of("HOME", dir.resolve("home-old").toString()))) {
            GatewayTestSupport.await("fio carrying requests", TIMEOUT,
                    () -> g.export("disk0").paths().stream().mapToLong(p -> p.requests()).sum() > 2000);

            // a renewed server certificate from the same CA
            double ok = reloads(g, "ok");
            replace(live, oldCa, oldCa.server());
            GatewayTestSupport.await("the renewed certificate taken", TIMEOUT, () -> reloads(g, "ok") > ok);
            assertTrue(nbdinfo(g, oldClient).ok(), "the renewed certificate is trusted by the old CA's clients");

            // a broken set (certificate and key that do not belong together) is not taken
            double failed = reloads(g, "failed");
            TestPki.Issued a = oldCa.server();
            TestPki.Issued b = oldCa.server();
            Files.writeString(live.resolve("server-key.pem"), b.keyPem());
            Files.writeString(live.resolve("server-cert.pem"), a.certificatePem());
            GatewayTestSupport.await("the broken set refused", TIMEOUT, () -> reloads(g, "failed") > failed);
            assertTrue(nbdinfo(g, oldClient).ok(), "the certificates before stay in use");

            // a new CA: new connections get the new certificate once its files are all in place
            TestPki newCa = new TestPki("new-ca");
            Path newClient = newCa.writeDirectory(dir.resolve("home-new/.pki/libnbd"), null, newCa.client("c1"));
            replace(live, newCa, newCa.server());
            GatewayTestSupport.await("a client of the new CA served", TIMEOUT, () -> nbdinfo(g, newClient).ok());
            assertFalse(nbdinfo(g, oldClient).ok(), "a client that trusts only the old CA is refused now");

            JsonNode job = fio.stop();
            assertEquals(0, job.path("error").asInt(), job.toString());
        } finally {
            g.close();
        }
    }

    private static Tools.Result nbdinfo(Gateway g, Path clientDir) {
        return Tools.run(TIMEOUT, "nbdinfo", "--size", "nbds://127.0.0.1:" + g.nbdAddress().getPort()
                + "/disk0?tls-certificates=" + clientDir);
    }

    /** Writes the CA, key and certificate beside each other, each file replaced in one rename. */
    private static void replace(Path live, TestPki ca, TestPki.Issued server) throws Exception {
        Path staging = Files.createTempDirectory(live.getParent(), "staging");
        ca.writeDirectory(staging, server, null);
        for (String f : new String[] {"ca-cert.pem", "server-key.pem", "server-cert.pem"}) {
            Files.move(staging.resolve(f), live.resolve(f), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        }
    }

    private static double reloads(Gateway g, String outcome) {
        Counter c = g.metrics().registry().find(MeterNames.TLS_RELOADS).tag("listener", "nbd")
                .tag("outcome", outcome).counter();
        return c == null ? 0 : c.count();
    }
}
