package io.mpathnbd.bench;

import io.mpathnbd.core.tls.PskFile;
import io.mpathnbd.server.tls.PskTls;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Vector;
import java.util.function.Supplier;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
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
import org.bouncycastle.tls.crypto.impl.bc.BcTlsCrypto;
import org.bouncycastle.tls.crypto.impl.jcajce.JcaTlsCryptoProvider;

/**
 * What TLS costs the gateway's event loop, for the choice between TLS-PSK (Bouncy Castle) and X.509 (Netty's
 * SslHandler over the JDK or over BoringSSL): a Netty server answers each request for N bytes with N bytes (the shape
 * of an NBD read), behind no TLS, SslHandler on the JDK's engine or on netty-tcnative's BoringSSL (X.509, TLS 1.3,
 * TLS_AES_128_GCM_SHA256), or {@link PskTls} (TLS 1.3 PSK, the same suite) over the JDK's ciphers or over Bouncy
 * Castle's pure-Java ones. A blocking client per mode
 * asks, one request at a time, for 4 KiB and 1 MiB; the modes take turns within each round so that drifts of a
 * shared machine hit all of them alike, and the first round is a discarded warm-up.
 *
 * <p>Prints per mode and size the median over rounds of MB/s, and the CPU time per MiB of the server's event-loop
 * thread (what the gateway pays) and of the client thread. Run: {@code java -cp mpath-bench/target/benchmarks.jar
 * io.mpathnbd.bench.TlsCostHarness [seconds-per-cell] [rounds]}.
 */
public final class TlsCostHarness {
    private static final int MIB = 1 << 20;
    private static final int[] SIZES = {4096, MIB};

    private TlsCostHarness() {
    }

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 3;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        Path dir = Files.createTempDirectory("tls-cost");
        byte[] psk = new byte[32];
        new SecureRandom().nextBytes(psk);
        Files.writeString(dir.resolve("keys.psk"), "bench:" + HexFormat.of().formatHex(psk) + "\n");
        PskFile keys = PskFile.read(dir.resolve("keys.psk"));
        char[] password = "changeit".toCharArray();
        Path keystore = dir.resolve("server.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-keyalg", "EC", "-groupname", "secp256r1", "-alias", "server", "-dname",
                "CN=localhost", "-validity", "2", "-storetype", "PKCS12", "-keystore", keystore.toString(),
                "-storepass", "changeit").inheritIO().start();
        if (keytool.waitFor() != 0) {
            throw new IllegalStateException("keytool failed");
        }
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            ks.load(in, password);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, password);
        List<String> suite = List.of("TLS_AES_128_GCM_SHA256");
        SslContext x509 = SslContextBuilder.forServer(kmf).sslProvider(SslProvider.JDK).protocols("TLSv1.3")
                .ciphers(suite).build();
        // BoringSSL through netty-tcnative, the gateway's default where it loads (tls.provider: auto)
        SslContext boring = SslContextBuilder.forServer(kmf).sslProvider(SslProvider.OPENSSL).protocols("TLSv1.3")
                .ciphers(suite).build();
        SSLContext clientSsl = SSLContext.getInstance("TLSv1.3");
        clientSsl.init(null, InsecureTrustManagerFactory.INSTANCE.getTrustManagers(), null);
        PskTls pskJca = PskTls.of(keys, Duration.ofSeconds(10));
        PskTls pskBc = new PskTls(keys, Duration.ofSeconds(10), new BcTlsCrypto(new SecureRandom()));

        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        long serverThread = group.next().submit(() -> Thread.currentThread().getId()).get();
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        byte[] payload = new byte[MIB];
        new SecureRandom().nextBytes(payload);
        Map<String, Supplier<ChannelHandler>> servers = new LinkedHashMap<>();
        servers.put("clear", () -> null);
        servers.put("jdk-x509", () -> x509.newHandler(io.netty.buffer.ByteBufAllocator.DEFAULT));
        servers.put("openssl-x509", () -> boring.newHandler(io.netty.buffer.ByteBufAllocator.DEFAULT));
        servers.put("bc-psk-jca", pskJca::newHandler);
        servers.put("bc-psk-bccrypto", pskBc::newHandler);
        Map<String, Channel> listeners = new LinkedHashMap<>();
        Map<String, Client> clients = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, Supplier<ChannelHandler>> mode : servers.entrySet()) {
                Channel listener = listen(group, mode.getValue(), payload);
                listeners.put(mode.getKey(), listener);
                int port = ((InetSocketAddress) listener.localAddress()).getPort();
                clients.put(mode.getKey(), Client.connect(mode.getKey(), port, clientSsl, psk));
            }
            Map<String, List<double[]>> results = new LinkedHashMap<>();
            List<String> modes = new ArrayList<>(servers.keySet());
            for (int round = 0; round <= rounds; round++) {
                for (int size : SIZES) {
                    for (int i = 0; i < modes.size(); i++) {
                        String mode = modes.get((i + round) % modes.size());
                        double[] cell = measure(clients.get(mode), size, seconds, threads, serverThread);
                        if (round > 0) {
                            results.computeIfAbsent(mode + " " + size, k -> new ArrayList<>()).add(cell);
                        }
                    }
                }
                System.err.println("round " + round + (round == 0 ? " (warm-up)" : "") + " done");
            }
            System.out.printf("%n%d cores, %s %s, %.1f s per cell, %d rounds (medians)%n",
                    Runtime.getRuntime().availableProcessors(), System.getProperty("java.vm.name"),
                    System.getProperty("java.version"), seconds, rounds);
            System.out.println("| mode | size | MB/s | requests/s | server CPU ms/MiB | client CPU ms/MiB |");
            System.out.println("|---|---|---|---|---|---|");
            for (int size : SIZES) {
                for (String mode : modes) {
                    List<double[]> cells = results.get(mode + " " + size);
                    System.out.printf("| %s | %s | %.0f | %.0f | %.2f | %.2f |%n", mode,
                            size == MIB ? "1 MiB" : size / 1024 + " KiB", median(cells, 0), median(cells, 1),
                            median(cells, 2), median(cells, 3));
                }
            }
        } finally {
            for (Client client : clients.values()) {
                client.close();
            }
            for (Channel listener : listeners.values()) {
                listener.close().sync();
            }
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
        }
    }

    /** MB/s, requests/s, server CPU ms per MiB, client CPU ms per MiB. */
    private static double[] measure(Client client, int size, double seconds, ThreadMXBean threads,
            long serverThread) throws Exception {
        byte[] buf = new byte[size];
        long serverCpu = threads.getThreadCpuTime(serverThread);
        long clientCpu = threads.getCurrentThreadCpuTime();
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        long requests = 0;
        long now;
        do {
            client.out.writeInt(size);
            client.out.flush();
            client.in.readFully(buf);
            requests++;
            now = System.nanoTime();
        } while (now < end);
        double elapsed = (now - start) / 1e9;
        double mib = requests * (double) size / MIB;
        double serverMs = (threads.getThreadCpuTime(serverThread) - serverCpu) / 1e6;
        double clientMs = (threads.getCurrentThreadCpuTime() - clientCpu) / 1e6;
        return new double[] {requests * (double) size / 1e6 / elapsed, requests / elapsed, serverMs / mib,
            clientMs / mib};
    }

    private static double median(List<double[]> cells, int column) {
        double[] values = cells.stream().mapToDouble(c -> c[column]).sorted().toArray();
        return values.length % 2 == 1 ? values[values.length / 2]
                : (values[values.length / 2 - 1] + values[values.length / 2]) / 2;
    }

    private static Channel listen(EventLoopGroup group, Supplier<ChannelHandler> tls, byte[] payload)
            throws InterruptedException {
        return new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ChannelHandler handler = tls.get();
                        if (handler != null) {
                            ch.pipeline().addLast(handler);
                        }
                        ch.pipeline().addLast(new Responder(payload));
                    }
                }).bind("127.0.0.1", 0).sync().channel();
    }

    /** Answers each 4-byte length N with N bytes, as the front end answers an NBD read. */
    private static final class Responder extends ByteToMessageDecoder {
        private final byte[] payload;
        private ByteBuf data;

        Responder(byte[] payload) {
            this.payload = payload;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            data = ctx.alloc().directBuffer(payload.length).writeBytes(payload);
        }

        @Override
        protected void handlerRemoved0(ChannelHandlerContext ctx) {
            data.release();
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
            while (in.readableBytes() >= 4) {
                ctx.write(data.retainedSlice(0, in.readInt()));
            }
            ctx.flush();
        }
    }

    /** One blocking connection: plain, JDK TLS with X.509, or Bouncy Castle TLS 1.3 with the external PSK. */
    private static final class Client {
        final Socket socket;
        final DataInputStream in;
        final DataOutputStream out;
        final TlsClientProtocol bc;

        private Client(Socket socket, InputStream in, OutputStream out, TlsClientProtocol bc) {
            this.socket = socket;
            this.in = new DataInputStream(new java.io.BufferedInputStream(in, 64 * 1024));
            this.out = new DataOutputStream(out);
            this.bc = bc;
        }

        static Client connect(String mode, int port, SSLContext ssl, byte[] psk) throws Exception {
            Socket socket = new Socket("127.0.0.1", port);
            socket.setTcpNoDelay(true);
            if (mode.equals("clear")) {
                return new Client(socket, socket.getInputStream(), socket.getOutputStream(), null);
            }
            if (mode.endsWith("-x509")) {
                SSLSocket tls = (SSLSocket) ssl.getSocketFactory().createSocket(socket, "localhost", port, true);
                tls.setEnabledProtocols(new String[] {"TLSv1.3"});
                tls.startHandshake();
                return new Client(tls, tls.getInputStream(), tls.getOutputStream(), null);
            }
            TlsClientProtocol protocol = new TlsClientProtocol(socket.getInputStream(), socket.getOutputStream());
            TlsCrypto crypto = mode.endsWith("jca") ? new JcaTlsCryptoProvider().create(new SecureRandom())
                    : new BcTlsCrypto(new SecureRandom());
            protocol.connect(new PskClient(crypto, psk));
            return new Client(socket, protocol.getInputStream(), protocol.getOutputStream(), protocol);
        }

        void close() throws Exception {
            if (bc != null) {
                bc.close();
            }
            socket.close();
        }
    }

    /** A TLS 1.3 client with one external PSK, as GnuTLS offers it (SHA-256, psk_dhe_ke). */
    private static final class PskClient extends AbstractTlsClient {
        private final byte[] key;

        PskClient(TlsCrypto crypto, byte[] key) {
            super(crypto);
            this.key = key;
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
            psks.add(new BasicTlsPSKExternal("bench".getBytes(StandardCharsets.UTF_8), getCrypto().createSecret(key),
                    PRFAlgorithm.tls13_hkdf_sha256));
            return psks;
        }

        @Override
        public TlsAuthentication getAuthentication() throws java.io.IOException {
            throw new TlsFatalAlert(AlertDescription.internal_error);
        }
    }
}
