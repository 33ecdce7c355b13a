package io.mpathnbd.server.frontend;

import static io.mpathnbd.nbd.protocol.NbdConstants.OPT_ABORT;
import static io.mpathnbd.nbd.protocol.NbdConstants.OPT_EXPORT_NAME;
import static io.mpathnbd.nbd.protocol.NbdConstants.OPT_GO;
import static io.mpathnbd.nbd.protocol.NbdConstants.OPT_INFO;
import static io.mpathnbd.nbd.protocol.NbdConstants.OPT_LIST;
import static io.mpathnbd.nbd.protocol.NbdConstants.OPT_STARTTLS;
import static io.mpathnbd.nbd.protocol.NbdConstants.OPT_STRUCTURED_REPLY;
import static io.mpathnbd.nbd.protocol.NbdConstants.REP_ACK;
import static io.mpathnbd.nbd.protocol.NbdConstants.REP_ERR_POLICY;
import static io.mpathnbd.nbd.protocol.NbdConstants.REP_ERR_TLS_REQD;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.support.TestPki;
import io.mpathnbd.nbd.protocol.NbdConstants;
import io.mpathnbd.server.Gateway;
import io.mpathnbd.server.GatewayTestSupport;
import io.mpathnbd.server.config.GatewayConfig;
import io.mpathnbd.testing.peers.Tools;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * NBD_OPT_STARTTLS on a real gateway with real TLS clients (libnbd's nbdinfo and nbdsh, qemu-img and qemu-io,
 * nbd-client -l) and byte-level checks of the spec's answers: FORCEDTLS ({@code mode: required}) answers every option
 * but STARTTLS and ABORT with NBD_REP_ERR_TLS_REQD and ends the session on EXPORT_NAME; SELECTIVETLS
 * ({@code mode: optional}) hides and refuses a TLS-only export until TLS; an export that wants a client certificate
 * refuses a TLS client without one; a wrong CA, an expired or misnamed server certificate fail the handshake at the
 * client (and qemu's {@code verify-peer=off} skips that check), and garbage or silence after STARTTLS is closed within the handshake timeout, while other clients work.
 */
class StartTlsTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    static Path dir;
    static TestPki pki;
    static Path serverDir;
    static Path clientDir;
    /** A client directory with only the CA: TLS without a client certificate. */
    static Path anonymousDir;
    /** mode: required */
    static Gateway forced;
    /** mode: optional, export 'open' plain, 'secret' TLS-only, 'certified' wants a client certificate */
    static Gateway selective;

    @BeforeAll
    static void start() throws Exception {
        pki = new TestPki("nbd-ca");
        serverDir = pki.writeDirectory(dir.resolve("server"), pki.server(), null);
        clientDir = pki.writeDirectory(dir.resolve("client"), null, pki.client("client-1"));
        anonymousDir = pki.writeDirectory(dir.resolve("anonymous"), null, null);
        forced = GatewayTestSupport.twoPathGatewayWith(GatewayTestSupport.image(dir, "forced.img"),
                "tls:\n  mode: required\n  certificates: " + serverDir + "\nlimits:\n  handshake-timeout: 3s\n");
        selective = startSelective();
    }

    private static Gateway startSelective() throws Exception {
        String yaml = "listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\n"
                + "tls:\n  mode: optional\n  certificates: " + serverDir + "\n"
                + "exports:\n"
                + "  - name: open\n    paths: [" + GatewayTestSupport.fileUri(GatewayTestSupport.image(dir, "o.img"))
                + "]\n"
                + "  - name: secret\n    tls-only: true\n    paths: ["
                + GatewayTestSupport.fileUri(GatewayTestSupport.image(dir, "s.img")) + "]\n"
                + "  - name: certified\n    client-certificate: required\n    paths: ["
                + GatewayTestSupport.fileUri(GatewayTestSupport.image(dir, "c.img")) + "]\n";
        Gateway g = Gateway.start(GatewayConfig.parse(yaml));
        for (String name : new String[] {"open", "secret", "certified"}) {
            GatewayTestSupport.awaitReady(g.export(name));
        }
        return g;
    }

    @AfterAll
    static void stop() {
        for (Gateway g : new Gateway[] {forced, selective}) {
            if (g != null) {
                g.close();
            }
        }
    }

    private static int port(Gateway g) {
        return g.nbdAddress().getPort();
    }

    private static String tlsUri(Gateway g, String export, Path certificates) {
        return "nbds://127.0.0.1:" + port(g) + "/" + export + "?tls-certificates=" + certificates;
    }

    private static InetSocketAddress address(Gateway g) {
        return new InetSocketAddress("127.0.0.1", port(g));
    }

    @Test
    void libnbdAndQemuDoIoOverTlsWhenItIsRequired() throws Exception {
        String uri = tlsUri(forced, "disk0", clientDir);
        assertEquals(String.valueOf(GatewayTestSupport.IMAGE_SIZE),
                Tools.run(TIMEOUT, "nbdinfo", "--size", uri).assertOk().stdout().strip());
        Tools.run(TIMEOUT, "nbdsh", "-c", String.join("\n",
                "h.set_uri_allow_local_file(True)",
                "h.connect_uri('" + uri + "')",
                "h.pwrite(b'\\x5a' * 65536, 1 << 20)",
                "assert h.pread(65536, 1 << 20) == b'\\x5a' * 65536",
                "assert h.get_tls_negotiated()")).assertOk();

        Tools.Result qemu = Tools.run(TIMEOUT, "qemu-io", "--object",
                "tls-creds-x509,id=tls0,dir=" + clientDir + ",endpoint=client", "--image-opts",
                "driver=nbd,host=127.0.0.1,port=" + port(forced) + ",export=disk0,tls-creds=tls0",
                "-c", "write -P 0x6e 2M 64k", "-c", "read -P 0x6e 2M 64k").assertOk();
        assertFalse(qemu.stdout().contains("failed"), qemu.describe());
        Tools.Result info = Tools.run(TIMEOUT, "qemu-img", "info", "--object",
                "tls-creds-x509,id=tls0,dir=" + clientDir + ",endpoint=client", "--image-opts",
                "driver=nbd,host=127.0.0.1,port=" + port(forced) + ",export=disk0,tls-creds=tls0").assertOk();
        assertTrue(info.stdout().contains("virtual size: 64 MiB"), info.describe());

        // nbdcopy reads the whole export over TLS; the 64 KiB nbdsh wrote at 1 MiB come back
        Path copy = dir.resolve("copy.img");
        Tools.run(TIMEOUT, "nbdcopy", uri, copy.toString()).assertOk();
        byte[] copied = java.nio.file.Files.readAllBytes(copy);
        assertEquals(GatewayTestSupport.IMAGE_SIZE, copied.length);
        assertEquals(0x5a, copied[(1 << 20) + 4095]);

        Tools.Result list = Tools.run(TIMEOUT, "nbd-client", "-l", "127.0.0.1", String.valueOf(port(forced)),
                "-certfile", clientDir.resolve("client-cert.pem").toString(), "-keyfile",
                clientDir.resolve("client-key.pem").toString(), "-cacertfile",
                clientDir.resolve("ca-cert.pem").toString(), "-tlshostname", "localhost");
        assertTrue(list.stdout().contains("disk0"), "nbd-client -l over TLS: " + list.describe());

        Tools.Result plain = Tools.run(TIMEOUT, "nbdinfo", "--size", "nbd://127.0.0.1:" + port(forced) + "/disk0");
        assertFalse(plain.ok(), plain.describe());
        assertTrue(plain.stderr().toLowerCase().contains("tls"), "the refusal should say TLS: " + plain.describe());
    }

    @Test
    void forcedTlsAnswersEveryOptionButStartTlsAndAbortWithTlsRequired() throws Exception {
        try (RawNbdClient c = RawNbdClient.handshake(address(forced), NbdConstants.CLIENT_FLAG_FIXED_NEWSTYLE)) {
            for (int option : new int[] {OPT_LIST, OPT_STRUCTURED_REPLY, OPT_INFO, OPT_GO, 99}) {
                c.sendOption(option, option == OPT_INFO || option == OPT_GO ? RawNbdClient.infoData("disk0")
                        : new byte[0]);
                RawNbdClient.OptionReply r = c.readOptionReply();
                assertEquals(option, r.option());
                assertEquals(REP_ERR_TLS_REQD, r.type(), "option " + option);
            }
            c.sendOption(OPT_ABORT, new byte[0]);
            assertEquals(REP_ACK, c.readOptionReply().type());
        }
        try (RawNbdClient c = RawNbdClient.handshake(address(forced), NbdConstants.CLIENT_FLAG_FIXED_NEWSTYLE)) {
            c.sendOption(OPT_EXPORT_NAME, "disk0".getBytes(StandardCharsets.UTF_8));
            assertTrue(c.closedByServer(Duration.ofSeconds(10)), "EXPORT_NAME before TLS ends the session");
        }
    }

    @Test
    void garbageOrSilenceAfterStartTlsIsClosedWithinTheHandshakeTimeout() throws Exception {
        try (RawNbdClient idle = RawNbdClient.handshake(address(forced), NbdConstants.CLIENT_FLAG_FIXED_NEWSTYLE);
                RawNbdClient garbage = RawNbdClient.handshake(address(forced),
                        NbdConstants.CLIENT_FLAG_FIXED_NEWSTYLE)) {
            idle.sendOption(OPT_STARTTLS, new byte[0]);
            assertEquals(REP_ACK, idle.readOptionReply().type());
            garbage.sendOption(OPT_STARTTLS, new byte[0]);
            assertEquals(REP_ACK, garbage.readOptionReply().type());
            garbage.write("this is not a TLS ClientHello\r\n".repeat(8).getBytes(StandardCharsets.US_ASCII));
            assertTrue(garbage.closedByServer(Duration.ofSeconds(10)), "garbage instead of TLS is closed");
            // meanwhile another client is served
            Tools.run(TIMEOUT, "nbdinfo", "--size", tlsUri(forced, "disk0", clientDir)).assertOk();
            // handshake-timeout is 3s here
            assertTrue(idle.closedByServer(Duration.ofSeconds(15)), "a stalled TLS handshake is closed");
        }
    }

    @Test
    void startTlsIsRefusedWhenTlsIsOffAndPipelinedBytesEndTheSession() throws Exception {
        Gateway plain = GatewayTestSupport.twoPathGatewayWith(GatewayTestSupport.image(dir, "plain.img"), "");
        try (RawNbdClient c = RawNbdClient.handshake(address(plain), NbdConstants.CLIENT_FLAG_FIXED_NEWSTYLE)) {
            c.sendOption(OPT_STARTTLS, new byte[0]);
            assertEquals(REP_ERR_POLICY, c.readOptionReply().type());
        } finally {
            plain.close();
        }
        try (RawNbdClient c = RawNbdClient.handshake(address(forced), NbdConstants.CLIENT_FLAG_FIXED_NEWSTYLE)) {
            // STARTTLS and, before its answer, another option: neither clear text nor TLS
            byte[] both = concat(RawNbdClient.optionBytes(OPT_STARTTLS, new byte[0]),
                    RawNbdClient.optionBytes(OPT_LIST, new byte[0]));
            c.write(both);
            assertTrue(c.closedByServer(Duration.ofSeconds(10)), "bytes pipelined behind STARTTLS end the session");
        }
    }

    @Test
    void selectiveTlsHidesAndRefusesTlsOnlyExportsUntilTls() throws Exception {
        String plainList = Tools.run(TIMEOUT, "nbdinfo", "--list", "--json",
                "nbd://127.0.0.1:" + port(selective)).assertOk().stdout();
        assertTrue(plainList.contains("\"open\""), plainList);
        // a certificate implies TLS: both are TLS-only, and neither is listed before TLS
        assertFalse(plainList.contains("\"secret\"") || plainList.contains("\"certified\""),
                "TLS-only exports are not listed before TLS: " + plainList);
        Tools.run(TIMEOUT, "nbdinfo", "--size", "nbd://127.0.0.1:" + port(selective) + "/open").assertOk();

        try (RawNbdClient c = RawNbdClient.handshake(address(selective), NbdConstants.CLIENT_FLAG_FIXED_NEWSTYLE)) {
            c.sendOption(OPT_GO, RawNbdClient.infoData("secret"));
            RawNbdClient.OptionReply r = c.readOptionReply();
            assertEquals(REP_ERR_TLS_REQD, r.type());
            assertTrue(new String(r.data(), StandardCharsets.UTF_8).contains("requires TLS"));
            c.sendOption(OPT_EXPORT_NAME, "secret".getBytes(StandardCharsets.UTF_8));
            assertTrue(c.closedByServer(Duration.ofSeconds(10)), "EXPORT_NAME of a TLS-only export ends the session");
        }

        String tlsList = Tools.run(TIMEOUT, "nbdinfo", "--list", "--json", "nbds://127.0.0.1:" + port(selective)
                + "/?tls-certificates=" + clientDir).assertOk().stdout();
        assertTrue(tlsList.contains("\"secret\"") && tlsList.contains("\"certified\"")
                && tlsList.contains("\"TLS\": true"), tlsList);
        Tools.run(TIMEOUT, "nbdinfo", "--size", tlsUri(selective, "secret", anonymousDir)).assertOk();
    }

    @Test
    void anExportThatWantsAClientCertificateRefusesATlsClientWithoutOne() {
        Tools.run(TIMEOUT, "nbdinfo", "--size", tlsUri(selective, "certified", clientDir)).assertOk();
        Tools.Result anonymous = Tools.run(TIMEOUT, "nbdinfo", "--size", tlsUri(selective, "certified", anonymousDir));
        assertFalse(anonymous.ok(), anonymous.describe());
        Tools.Result plain = Tools.run(TIMEOUT, "nbdinfo", "--size", "nbd://127.0.0.1:" + port(selective)
                + "/certified");
        assertFalse(plain.ok(), plain.describe());
        Tools.run(TIMEOUT, "nbdinfo", "--size", tlsUri(selective, "open", anonymousDir)).assertOk();
    }

    @Test
    void clientsRefuseAWrongCaAnExpiredOrMisnamedCertificate() throws Exception {
        TestPki other = new TestPki("other-ca");
        Path wrongCa = other.writeDirectory(dir.resolve("wrong-ca"), null, other.client("client-1"));
        Tools.Result refused = Tools.run(TIMEOUT, "nbdinfo", "--size", tlsUri(forced, "disk0", wrongCa));
        assertFalse(refused.ok(), refused.describe());
        // qemu's client checks the server's certificate by default (verify-peer=on); off, the wrong CA is no obstacle
        String qemuDisk = "driver=nbd,host=127.0.0.1,port=" + port(forced) + ",export=disk0,tls-creds=tls0";
        Tools.Result verified = Tools.run(TIMEOUT, "qemu-io", "--object",
                "tls-creds-x509,id=tls0,dir=" + wrongCa + ",endpoint=client", "--image-opts", qemuDisk,
                "-c", "read 0 4k");
        assertFalse(verified.ok() && !verified.stdout().contains("failed"), verified.describe());
        Tools.Result unverified = Tools.run(TIMEOUT, "qemu-io", "--object",
                "tls-creds-x509,id=tls0,dir=" + wrongCa + ",endpoint=client,verify-peer=off", "--image-opts",
                qemuDisk, "-c", "read 0 4k").assertOk();
        assertTrue(unverified.stdout().contains("read 4096/4096"), unverified.describe());

        for (TestPki.Issued bad : new TestPki.Issued[] {pki.expiredServer(), pki.serverFor("other.example")}) {
            Path badDir = pki.writeDirectory(dir.resolve("bad-" + bad.certificate().getSerialNumber()), bad, null);
            Gateway g = GatewayTestSupport.twoPathGatewayWith(GatewayTestSupport.image(dir,
                    "bad-" + bad.certificate().getSerialNumber() + ".img"),
                    "tls:\n  mode: required\n  certificates: " + badDir + "\n");
            try {
                Tools.Result r = Tools.run(TIMEOUT, "nbdinfo", "--size", tlsUri(g, "disk0", clientDir));
                assertFalse(r.ok(), "the client must refuse " + bad.subject() + ": " + r.describe());
            } finally {
                g.close();
            }
        }
        Tools.run(TIMEOUT, "nbdinfo", "--size", tlsUri(forced, "disk0", clientDir)).assertOk();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
