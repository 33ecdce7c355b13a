package io.mpathnbd.core.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.nio.ByteBuffer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;

/**
 * Proves that a server certificate and key belong together before they are used: building a context does not check
 * it, so a certificate renewed beside the old key would only fail in every client's handshake. An in-memory TLS
 * handshake against a client that trusts any certificate (only the key's signature matters here) does check it.
 */
final class TlsSelfTest {
    private static final int MAX_STEPS = 64;

    private TlsSelfTest() {
    }

    static void check(CertificateFiles files, SslProvider provider) throws TlsConfigException {
        try {
            SslContext server = SslContextBuilder.forServer(files.cert().orElseThrow().toFile(),
                    files.key().orElseThrow().toFile()).sslProvider(provider).protocols(TlsContexts.PROTOCOLS)
                    .clientAuth(ClientAuth.NONE).build();
            SslContext client = SslContextBuilder.forClient().sslProvider(provider).protocols(TlsContexts.PROTOCOLS)
                    .trustManager(InsecureTrustManagerFactory.INSTANCE).build();
            handshake(server.newEngine(ByteBufAllocator.DEFAULT), client.newEngine(ByteBufAllocator.DEFAULT));
        } catch (SSLException | IllegalArgumentException e) {
            throw new TlsConfigException("certificate " + files.cert().orElseThrow() + " and key "
                    + files.key().orElseThrow() + " do not make a working TLS server: " + reason(e), e);
        }
    }

    private static void handshake(SSLEngine server, SSLEngine client) throws SSLException {
        int size = Math.max(server.getSession().getPacketBufferSize(), client.getSession().getPacketBufferSize());
        ByteBuffer toServer = ByteBuffer.allocate(size * 4);
        ByteBuffer toClient = ByteBuffer.allocate(size * 4);
        ByteBuffer sink = ByteBuffer.allocate(Math.max(server.getSession().getApplicationBufferSize(),
                client.getSession().getApplicationBufferSize()) * 2);
        ByteBuffer empty = ByteBuffer.allocate(0);
        client.beginHandshake();
        server.beginHandshake();
        for (int i = 0; i < MAX_STEPS; i++) {
            step(client, empty, toServer, toClient, sink);
            step(server, empty, toClient, toServer, sink);
            if (done(client) && done(server)) {
                return;
            }
        }
        throw new SSLException("the handshake did not finish");
    }

    /** One turn of {@code engine}: consume what the peer sent, run delegated tasks, send what it has. */
    private static void step(SSLEngine engine, ByteBuffer empty, ByteBuffer out, ByteBuffer in, ByteBuffer sink)
            throws SSLException {
        in.flip();
        while (in.hasRemaining()) {
            SSLEngineResult r = engine.unwrap(in, sink);
            sink.clear();
            runTasks(engine);
            if (r.getStatus() != SSLEngineResult.Status.OK || r.bytesConsumed() == 0) {
                break;
            }
        }
        in.compact();
        while (engine.getHandshakeStatus() == HandshakeStatus.NEED_WRAP) {
            engine.wrap(empty, out);
            runTasks(engine);
        }
    }

    private static void runTasks(SSLEngine engine) {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
    }

    private static boolean done(SSLEngine engine) {
        HandshakeStatus s = engine.getHandshakeStatus();
        return s == HandshakeStatus.NOT_HANDSHAKING || s == HandshakeStatus.FINISHED;
    }

    private static String reason(Exception e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }
}
