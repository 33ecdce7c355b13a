package io.mpathnbd.core.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.testing.peers.Nbdkit;
import io.mpathnbd.testing.peers.Tools;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The test CA's files are what real TLS peers (nbdkit and libnbd, both GnuTLS) accept, and refuse when they should. */
class TestPkiTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    @Test
    void nbdkitAndNbdinfoShakeHandsWithTheTestCertificates() {
        TestPki pki = new TestPki("test-ca");
        Path serverDir = pki.writeDirectory(tmp.resolve("server"), pki.server(), null);
        Path clientDir = pki.writeDirectory(tmp.resolve("client"), null, pki.client("client-1"));
        try (Nbdkit disk = Nbdkit.builder().tls(serverDir, true).memory(1 << 20).start()) {
            String uri = "nbds://127.0.0.1:" + disk.port() + "/?tls-certificates=" + clientDir;
            Tools.Result ok = Tools.run(TIMEOUT, "nbdinfo", "--size", uri).assertOk();
            assertEquals("1048576", ok.stdout().trim());

            Tools.Result plain = Tools.run(TIMEOUT, "nbdinfo", "--size", "nbd://127.0.0.1:" + disk.port() + "/");
            assertFalse(plain.ok(), "nbdkit --tls=require must refuse a client without TLS: " + plain.describe());

            TestPki other = new TestPki("other-ca");
            Path wrongCa = other.writeDirectory(tmp.resolve("wrong"), null, other.client("client-1"));
            Tools.Result refused = Tools.run(TIMEOUT, "nbdinfo", "--size",
                    "nbds://127.0.0.1:" + disk.port() + "/?tls-certificates=" + wrongCa);
            assertFalse(refused.ok(), "a certificate from another CA must be refused: " + refused.describe());
        }
    }

    @Test
    void subjectsAreInRfc2253Form() {
        TestPki pki = new TestPki("test-ca");
        assertEquals("CN=host-a,O=mpath-nbd tests", pki.client("host-a").subject());
        assertTrue(pki.expiredClient("x").certificate().getNotAfter().getTime() < System.currentTimeMillis());
    }
}
