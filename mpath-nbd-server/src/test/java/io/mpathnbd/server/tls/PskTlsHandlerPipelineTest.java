package io.mpathnbd.server.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.tls.PskFile;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.UnsupportedMessageTypeException;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Vector;
import org.bouncycastle.tls.AbstractTlsClient;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.BasicTlsPSKExternal;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.PRFAlgorithm;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.TlsAuthentication;
import org.bouncycastle.tls.TlsClientProtocol;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.TlsUtils;
import org.bouncycastle.tls.crypto.TlsCrypto;
import org.bouncycastle.tls.crypto.impl.jcajce.JcaTlsCryptoProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link PskTlsHandler}'s contract with the rest of the pipeline, on an {@link EmbeddedChannel} with Bouncy Castle's
 * own non-blocking client at the other end: writes made before the handshake wait for it, data sent with the
 * client's Finished arrives after the success event, other messages are refused, close sends close_notify.
 */
class PskTlsHandlerPipelineTest {
    private static final byte[] KEY = HexFormat.of().parseHex("00112233445566778899aabbccddeeff");

    @TempDir
    Path tmp;

    private EmbeddedChannel channel;
    private PskTlsHandler handler;
    private final List<Object> seen = new ArrayList<>();
    private TlsClientProtocol client;

    @BeforeEach
    void start() throws Exception {
        Path keys = tmp.resolve("keys.psk");
        Files.writeString(keys, "alice:" + HexFormat.of().formatHex(KEY) + "\n");
        handler = PskTls.of(PskFile.read(keys), Duration.ofSeconds(30)).newHandler();
        channel = new EmbeddedChannel(handler, new ChannelInboundHandlerAdapter() {
            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                seen.add(evt);
            }

            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ByteBuf buf = (ByteBuf) msg;
                seen.add(buf.toString(StandardCharsets.UTF_8));
                buf.release();
            }
        });
        client = new TlsClientProtocol();
        client.connect(new Tls13PskClient(new JcaTlsCryptoProvider().create(new SecureRandom())));
    }

    @AfterEach
    void stop() {
        channel.finishAndReleaseAll();
    }

    @Test
    void writesBeforeTheHandshakeWaitAndDataWithFinishedFollowsTheEvent() throws Exception {
        ChannelFuture early = channel.writeAndFlush(Unpooled.copiedBuffer("early", StandardCharsets.UTF_8));
        assertFalse(early.isDone());
        toServer();                      // ClientHello
        toClient();                      // ServerHello .. Finished
        assertFalse(early.isDone());
        client.writeApplicationData("hi".getBytes(StandardCharsets.UTF_8), 0, 2);
        toServer();                      // client Finished and "hi" in one read
        assertEquals(List.of(SslHandshakeCompletionEvent.SUCCESS, "hi"), seen);
        assertTrue(early.isSuccess());
        assertEquals("alice", handler.identity());
        assertEquals("alice", channel.attr(PskTlsHandler.PSK_IDENTITY).get());
        assertEquals("TLSv1.3", handler.protocolVersion());
        assertEquals("alice", handler.handshakeFuture().getNow());
        toClient();
        assertEquals("early", clientReads());
    }

    @Test
    void refusesMessagesThatAreNotBuffersAndClosesWithCloseNotify() throws Exception {
        toServer();
        toClient();
        toServer();
        assertEquals(List.of(SslHandshakeCompletionEvent.SUCCESS), seen);
        ChannelFuture odd = channel.writeAndFlush("not a buffer");
        assertInstanceOf(UnsupportedMessageTypeException.class, odd.cause());
        channel.close();
        toClient();
        assertTrue(client.isClosed(), "the client saw close_notify");
        assertFalse(channel.isOpen());
    }

    @Test
    void closeBeforeTheHandshakeFailsItAndHeldWrites() {
        ChannelFuture early = channel.writeAndFlush(Unpooled.copiedBuffer("early", StandardCharsets.UTF_8));
        channel.close();
        assertFalse(early.isSuccess());
        assertFalse(handler.handshakeFuture().isSuccess());
        assertNull(handler.identity());
        assertEquals(1, seen.size());
        assertFalse(((SslHandshakeCompletionEvent) seen.get(0)).isSuccess());
    }

    private void toServer() throws Exception {
        int n = client.getAvailableOutputBytes();
        byte[] bytes = new byte[n];
        client.readOutput(bytes, 0, n);
        channel.writeInbound(Unpooled.wrappedBuffer(bytes));
        channel.runPendingTasks();
    }

    private void toClient() throws Exception {
        ByteBuf out;
        while ((out = channel.readOutbound()) != null) {
            byte[] bytes = new byte[out.readableBytes()];
            out.readBytes(bytes);
            out.release();
            if (bytes.length > 0) {
                client.offerInput(bytes);
            }
        }
    }

    private String clientReads() {
        int n = client.getAvailableInputBytes();
        byte[] bytes = new byte[n];
        client.readInput(bytes, 0, n);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** TLS 1.3 with alice's key as external PSK, bound to SHA-256 as GnuTLS binds it. */
    private static final class Tls13PskClient extends AbstractTlsClient {
        Tls13PskClient(TlsCrypto crypto) {
            super(crypto);
        }

        @Override
        protected ProtocolVersion[] getSupportedVersions() {
            return ProtocolVersion.TLSv13.only();
        }

        @Override
        protected int[] getSupportedCipherSuites() {
            return TlsUtils.getSupportedCipherSuites(getCrypto(), new int[] {CipherSuite.TLS_AES_128_GCM_SHA256});
        }

        @Override
        public Vector<Object> getExternalPSKs() {
            Vector<Object> psks = new Vector<>();
            psks.add(new BasicTlsPSKExternal("alice".getBytes(StandardCharsets.UTF_8),
                    getCrypto().createSecret(KEY), PRFAlgorithm.tls13_hkdf_sha256));
            return psks;
        }

        @Override
        public TlsAuthentication getAuthentication() throws java.io.IOException {
            throw new TlsFatalAlert(AlertDescription.internal_error);
        }
    }
}
