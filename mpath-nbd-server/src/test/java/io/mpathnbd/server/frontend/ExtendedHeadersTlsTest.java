package io.mpathnbd.server.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mpathnbd.core.support.TestPki;
import io.mpathnbd.nbd.protocol.NbdConstants;
import io.mpathnbd.server.Gateway;
import io.mpathnbd.server.GatewayTestSupport;
import io.mpathnbd.testing.peers.NewerPeers;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.Socket;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Extended headers and STARTTLS: libnbd 1.22 negotiates them after TLS, and (on a raw socket, since real clients
 * defer every stateful option until after TLS) extended headers asked for before STARTTLS are forgotten by it, as
 * the spec says: the same connection then gets compact replies.
 */
class ExtendedHeadersTlsTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(120);

    @TempDir
    static Path dir;
    static Path clientDir;
    static Gateway gateway;

    @BeforeAll
    static void start() throws Exception {
        NewerPeers.requireTrixie();
        TestPki pki = new TestPki("nbd-ca");
        Path serverDir = pki.writeDirectory(dir.resolve("server"), pki.server(), null);
        clientDir = pki.writeDirectory(dir.resolve("client"), null, pki.client("client-1"));
        gateway = GatewayTestSupport.twoPathGatewayWith(GatewayTestSupport.image(dir, "disk.img"),
                "tls:\n  mode: optional\n  certificates: " + serverDir + "\n");
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    @Test
    void nbdinfo122NegotiatesExtendedHeadersOverTls() throws Exception {
        String uri = "nbds://127.0.0.1:" + gateway.nbdAddress().getPort() + "/disk0?tls-certificates=" + clientDir;
        JsonNode info = new ObjectMapper().readTree(NewerPeers.trixieWith(List.of(clientDir), TIMEOUT,
                "nbdinfo", "--json", uri).assertOk().stdout());
        assertTrue(info.get("TLS").asBoolean(), info.toString());
        assertTrue(info.get("extended").asBoolean(), info.toString());
    }

    @Test
    void extendedHeadersBeforeStartTlsAreForgotten() throws Exception {
        try (Socket plain = new Socket("127.0.0.1", gateway.nbdAddress().getPort())) {
            plain.setSoTimeout((int) TIMEOUT.toMillis());
            DataInputStream in = new DataInputStream(plain.getInputStream());
            DataOutputStream out = new DataOutputStream(plain.getOutputStream());
            in.readLong();
            in.readLong();
            in.readUnsignedShort();
            out.writeInt(NbdConstants.CLIENT_FLAG_FIXED_NEWSTYLE | NbdConstants.CLIENT_FLAG_NO_ZEROES);
            option(out, NbdConstants.OPT_EXTENDED_HEADERS, new byte[0]);
            assertEquals(NbdConstants.REP_ACK, replyType(in));
            option(out, NbdConstants.OPT_STARTTLS, new byte[0]);
            assertEquals(NbdConstants.REP_ACK, replyType(in));
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(null, new TrustManager[] {new TrustAll()}, null);
            try (SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket(plain, "127.0.0.1",
                    gateway.nbdAddress().getPort(), true)) {
                s.startHandshake();
                DataInputStream tin = new DataInputStream(s.getInputStream());
                DataOutputStream tout = new DataOutputStream(s.getOutputStream());
                option(tout, NbdConstants.OPT_GO, RawNbdClient.infoData("disk0"));
                int type;
                while ((type = replyType(tin)) == NbdConstants.REP_INFO) {
                    // skip the INFO records (replyType read their data)
                }
                assertEquals(NbdConstants.REP_ACK, type);
                // a compact FLUSH: the extended headers of before STARTTLS no longer apply, so the answer is a
                // simple reply (an extended decoder would have refused the compact magic)
                tout.write(RawNbdClient.requestBytes(0, NbdConstants.CMD_FLUSH, 77, 0, 0, null));
                tout.flush();
                assertEquals(NbdConstants.SIMPLE_REPLY_MAGIC, tin.readInt());
                assertEquals(0, tin.readInt());
                assertEquals(77, tin.readLong());
            }
        }
    }

    private static void option(DataOutputStream out, int option, byte[] data) throws Exception {
        out.write(RawNbdClient.optionBytes(option, data));
        out.flush();
    }

    /** Reads one option reply and returns its type (its data is read and dropped). */
    private static int replyType(DataInputStream in) throws Exception {
        assertEquals(NbdConstants.OPTION_REPLY_MAGIC, in.readLong());
        in.readInt();
        int type = in.readInt();
        byte[] data = new byte[in.readInt()];
        in.readFully(data);
        return type;
    }

    /** The test's own gateway with a throw-away CA: what is checked here is the NBD state, not the certificate. */
    private static final class TrustAll implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
