package io.mpathnbd.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.support.TestPki;
import io.mpathnbd.nbd.backend.NbdTlsOptions;
import io.mpathnbd.server.GatewayTestSupport;
import io.mpathnbd.server.config.GatewayConfig;
import io.mpathnbd.testing.peers.FreePort;
import io.mpathnbd.testing.peers.Images;
import io.mpathnbd.testing.peers.Nbdkit;
import io.mpathnbd.testing.peers.Tools;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code serve --backend-tls-certificates DIR --export NAME=nbds://...}: no config file needed for TLS paths. */
class BackendTlsCliTest {
    @TempDir
    Path dir;

    private static GatewayConfig serve(String... args) {
        CommandLine.ParseResult pr = Main.commandLine().parseArgs(args);
        return ((ServeCommand) pr.subcommand().commandSpec().userObject()).buildConfig();
    }

    @Test
    void theFlagGivesInlineExportsTheirCertificates() {
        GatewayConfig c = serve("serve", "--export", "d=nbds://127.0.0.1:1/d", "--backend-tls-certificates", "/pki");
        assertEquals("/pki", c.exports().get(0).driverOptions(c.limits().maxPayload()).transport()
                .get(NbdTlsOptions.CERTIFICATES));
    }

    @Test
    void anNbdsPathWithoutACaIsAConfigErrorWithExitTwo() {
        CliRun r = CliRun.of("serve", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
                "--export", "d=nbds://127.0.0.1:1/d", "--backend-tls-certificates", dir.toString());
        assertEquals(2, r.exitCode(), r.toString());
        assertTrue(r.err().contains("no CA certificate") && r.err().contains(dir.resolve("ca-cert.pem").toString()),
                r.toString());
    }

    @Test
    void aServedExportReachesAnNbdkitThatRequiresTls() throws Exception {
        Tools.require("nbdkit", "nbdinfo", "qemu-io");
        TestPki pki = new TestPki("cli test CA");
        Path serverDir = pki.writeDirectory(dir.resolve("server"), pki.server(), null);
        Path clientDir = pki.writeDirectory(dir.resolve("client"), null, null);
        Path image = Images.sparse(dir, "disk.img", 16L << 20);
        int nbd = FreePort.next();
        int admin = FreePort.next();
        try (Nbdkit kit = Nbdkit.builder().dir(dir.resolve("kit")).tls(serverDir, false).file(image).start();
                ChildProcess p = ChildProcess.start(dir, List.of(), "serve", "--listen", "127.0.0.1:" + nbd,
                        "--admin", "127.0.0.1:" + admin, "--backend-tls-certificates", clientDir.toString(),
                        "--export", "disk0=" + kit.tlsUri())) {
            String uri = "nbd://127.0.0.1:" + nbd + "/disk0";
            GatewayTestSupport.await("export ready", Duration.ofSeconds(30),
                    () -> Tools.run(Duration.ofSeconds(20), "nbdinfo", "--size", uri).ok());
            Tools.Result rw = GatewayTestSupport.writeAndVerify(uri, 0, 0x5e).assertOk();
            assertTrue(!rw.stdout().contains("failed"), rw.describe());
            byte[] first = Images.read(image, 0, 1);
            assertEquals(0x5e, first[0] & 0xff, "the write went through TLS to the image");
        }
    }
}
