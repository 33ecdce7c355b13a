package io.mpathnbd.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.server.GatewayTestSupport;
import io.mpathnbd.testing.peers.FreePort;
import io.mpathnbd.testing.peers.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mpath-nbd serve} as its own process, in exactly the inline form outside checks use. */
class ServeProcessTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void tools() {
        Tools.require("nbdinfo", "qemu-io");
    }

    @Test
    void inlineServeFormRunsUntilTerminated() throws Exception {
        Path img = GatewayTestSupport.image(dir, "disk.img");
        String uri = GatewayTestSupport.fileUri(img);
        int nbd = FreePort.next();
        int admin = FreePort.next();
        try (ChildProcess p = ChildProcess.start(dir, "serve", "--listen", "127.0.0.1:" + nbd,
                "--admin", "127.0.0.1:" + admin, "--export", "disk0=" + uri + "," + GatewayTestSupport.fileUri(GatewayTestSupport.alias(img, "disk-b.img")),
                "--iopolicy", "round-robin")) {
            p.awaitOutput("the gateway to listen", Duration.ofSeconds(30),
                    s -> s.contains("serving NBD on 127.0.0.1:" + nbd));
            String nbdUri = "nbd://127.0.0.1:" + nbd + "/disk0";
            GatewayTestSupport.await("export ready", Duration.ofSeconds(20),
                    () -> Tools.run(Duration.ofSeconds(20), "nbdinfo", "--size", nbdUri).ok());
            Tools.Result size = Tools.run(Duration.ofSeconds(20), "nbdinfo", "--size", nbdUri).assertOk();
            assertEquals(String.valueOf(GatewayTestSupport.IMAGE_SIZE), size.stdout().strip());
            GatewayTestSupport.writeAndVerify(nbdUri, 0, 0x77).assertOk();

            CliRun status = CliRun.of("status", "--admin", "127.0.0.1:" + admin);
            assertEquals(0, status.exitCode(), status.toString());
            assertTrue(status.out().startsWith("disk0 size=64MiB (67108864 bytes) iopolicy=round-robin ready"),
                    status.out());

            int code = p.terminate(Duration.ofSeconds(30));
            assertEquals(143, code, "SIGTERM exit status\n" + p.describe());
            assertTrue(p.err().contains("shutting down") && p.err().contains("stopped"), p.describe());
            assertFalse(p.err().contains("LEAK:"), p.describe());
        }
    }

    @Test
    void sighupReloadsTheTlsCertificates() throws Exception {
        io.mpathnbd.core.support.TestPki oldCa = new io.mpathnbd.core.support.TestPki("old-ca");
        Path live = oldCa.writeDirectory(dir.resolve("hup-pki"), oldCa.server(), null);
        io.mpathnbd.core.support.TestPki newCa = new io.mpathnbd.core.support.TestPki("new-ca");
        Path newClient = newCa.writeDirectory(dir.resolve("hup-client"), null, newCa.client("c"));
        Path cfg = dir.resolve("hup.yaml");
        int nbd = FreePort.next();
        Files.writeString(cfg, "listen: 127.0.0.1:" + nbd + "\nadmin: 127.0.0.1:" + FreePort.next() + "\n"
                + "tls:\n  certificates: " + live + "\n  reload-interval: 0s\n"
                + "exports:\n  - name: d\n    paths: [" + GatewayTestSupport.fileUri(GatewayTestSupport.image(dir,
                "hup.img")) + "]\n");
        try (ChildProcess p = ChildProcess.start(dir, "serve", "--config", cfg.toString())) {
            p.awaitOutput("the gateway to listen", Duration.ofSeconds(30),
                    s -> s.contains("serving NBD on 127.0.0.1:" + nbd));
            newCa.writeDirectory(live, newCa.server(), null);
            Tools.run(Duration.ofSeconds(10), "kill", "-HUP", Long.toString(p.pid())).assertOk();
            p.awaitOutput("the reload", Duration.ofSeconds(30), s -> s.contains("certificates reloaded (SIGHUP)"));
            String uri = "nbds://127.0.0.1:" + nbd + "/d?tls-certificates=" + newClient;
            GatewayTestSupport.await("export ready over TLS", Duration.ofSeconds(20),
                    () -> Tools.run(Duration.ofSeconds(20), "nbdinfo", "--size", uri).ok());
            assertEquals(143, p.terminate(Duration.ofSeconds(30)), p.describe());
        }
    }

    @Test
    void aTransportThatCannotLoadFallsBackWithAWarningAndServes() throws Exception {
        Path img = GatewayTestSupport.image(dir, "fallback.img");
        int nbd = FreePort.next();
        int admin = FreePort.next();
        // Netty's switch that keeps every native transport from loading: io_uring and epoll both fail here
        try (ChildProcess p = ChildProcess.start(dir, List.of("-Dio.netty.transport.noNative=true"), "serve",
                "--listen", "127.0.0.1:" + nbd, "--admin", "127.0.0.1:" + admin, "--export",
                "disk0=" + GatewayTestSupport.fileUri(img), "--transport", "io_uring")) {
            p.awaitOutput("the gateway to listen", Duration.ofSeconds(30),
                    s -> s.contains("serving NBD on 127.0.0.1:" + nbd));
            assertTrue(p.err().contains("WARN") && p.err().contains("transport io_uring not available (")
                    && p.err().contains("), falling back to NIO transport"), p.describe());
            String nbdUri = "nbd://127.0.0.1:" + nbd + "/disk0";
            GatewayTestSupport.await("export ready", Duration.ofSeconds(20),
                    () -> Tools.run(Duration.ofSeconds(20), "nbdinfo", "--size", nbdUri).ok());
            GatewayTestSupport.writeAndVerify(nbdUri, 0, 0x3d).assertOk();
            assertEquals(143, p.terminate(Duration.ofSeconds(30)), p.describe());
        }
    }

    @Test
    void anAdminApiOffLoopbackWithoutATokenExitsTwoAndSaysHowToFixIt() throws Exception {
        int nbd = FreePort.next();
        int admin = FreePort.next();
        String uri = GatewayTestSupport.fileUri(GatewayTestSupport.image(dir, "disk.img"));
        try (ChildProcess p = ChildProcess.start(dir, "serve", "--listen", "127.0.0.1:" + nbd,
                "--admin", "0.0.0.0:" + admin, "--export", "disk0=" + uri)) {
            assertEquals(2, p.waitFor(Duration.ofSeconds(30)), p.describe());
            assertEquals("mpath-nbd: config error: admin: 0.0.0.0:" + admin + " can be reached from other machines,"
                    + " and the admin API has no authentication (whoever reaches it could fail, add and remove"
                    + " paths). Give it a token: admin-auth: {token-file: FILE} in the config file, or serve"
                    + " --admin-token-file FILE, with a FILE made by `head -c 32 /dev/urandom | base64 > FILE`; or"
                    + " listen on 127.0.0.1; or, where a network you control guards the port, say admin-auth:"
                    + " {open: all}", p.err().strip(), p.describe());
        }
    }

    @Test
    void aWrongConfigExitsTwoWithTheKey() throws Exception {
        Path cfg = dir.resolve("gw.yaml");
        Files.writeString(cfg, """
                exports:
                  - name: disk0
                    paths:
                      - file:/a
                      - foo://b/c
                """);
        try (ChildProcess p = ChildProcess.start(dir, "serve", "--config", cfg.toString())) {
            assertEquals(2, p.waitFor(Duration.ofSeconds(30)), p.describe());
            assertEquals("mpath-nbd: config error: exports[0].paths[1]: unsupported scheme 'foo' (supported: file, iscsi, nbd, nbds)",
                    p.err().strip(), p.describe());
        }
    }
}
