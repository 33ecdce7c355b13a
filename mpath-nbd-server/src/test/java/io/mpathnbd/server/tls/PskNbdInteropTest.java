package io.mpathnbd.server.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.tls.PskFile;
import io.mpathnbd.testing.peers.Tools;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * libnbd's nbdinfo with {@code tls-psk-file} against a minimal NBD newstyle server: {@code NBD_OPT_STARTTLS} in
 * clear, then {@link PskTlsHandler} in the pipeline and the rest of the negotiation (GO, a 1 MiB export) and the
 * disconnect over TLS-PSK. TLS 1.2 is forced through GnuTLS's system priority file, as an operator would.
 */
class PskNbdInteropTest {
    private static final long EXPORT_SIZE = 1 << 20;

    @org.junit.jupiter.api.io.TempDir
    Path tmp;

    private EventLoopGroup group;
    private Channel listener;
    private final BlockingQueue<Object> events = new LinkedBlockingQueue<>();
    private Path keys;
    private int port;

    @BeforeEach
    void start() throws Exception {
        Tools.require("psktool", "nbdinfo");
        keys = tmp.resolve("keys.psk");
        Tools.run(Duration.ofSeconds(30), "psktool", "-u", "alice", "-p", keys.toString()).assertOk();
        PskTls tls = PskTls.of(PskFile.read(keys), Duration.ofSeconds(5));
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        listener = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast("nbd", new MiniNbdServer(tls, events));
                    }
                }).bind("127.0.0.1", 0).sync().channel();
        port = ((InetSocketAddress) listener.localAddress()).getPort();
    }

    @AfterEach
    void stop() throws Exception {
        if (listener != null) {
            listener.close().sync();
        }
        if (group != null) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLS1.3", "TLS1.2"})
    void nbdinfoNegotiatesOverTlsPsk(String version) throws Exception {
        Path priorities = tmp.resolve("gnutls.config");
        Files.writeString(priorities, version.equals("TLS1.2")
                ? "[overrides]\ndisabled-version = tls1.3\n" : "[overrides]\n");
        Tools.Result info = Tools.run(Duration.ofSeconds(30),
                Map.of("GNUTLS_SYSTEM_PRIORITY_FILE", priorities.toString(), "LIBNBD_DEBUG", "1"),
                "nbdinfo", "--size", "nbds://alice@127.0.0.1:" + port + "/?tls-psk-file=" + keys);
        assertTrue(info.ok(), info.describe());
        assertEquals(String.valueOf(EXPORT_SIZE), info.stdout().trim(), info.describe());
        assertEquals(SslHandshakeCompletionEvent.SUCCESS, events.poll(10, TimeUnit.SECONDS));
        assertEquals("alice", events.poll(10, TimeUnit.SECONDS));
        assertEquals(version.replace("TLS", "TLSv"), events.poll(10, TimeUnit.SECONDS));
        assertEquals("disconnect", events.poll(10, TimeUnit.SECONDS));
        String expected = version.equals("TLS1.2") ? "cipher AES-128-GCM (128 bits) key exchange DHE-PSK"
                : "cipher AES-128-GCM (128 bits) key exchange ECDHE-PSK";
        assertTrue(info.stderr().contains("connection is using TLS: " + expected), info.describe());
    }

    @org.junit.jupiter.api.Test
    void qemuImgWithTlsCredsPsk() throws Exception {
        Tools.require("qemu-img");
        Tools.Result info = Tools.run(Duration.ofSeconds(60), "qemu-img", "info", "--output=json", "--object",
                "tls-creds-psk,id=tls0,endpoint=client,username=alice,dir=" + tmp, "--image-opts",
                "driver=nbd,host=127.0.0.1,port=" + port + ",tls-creds=tls0");
        assertTrue(info.ok(), info.describe());
        assertTrue(info.stdout().contains("\"virtual-size\": " + EXPORT_SIZE), info.describe());
        assertEquals(SslHandshakeCompletionEvent.SUCCESS, events.poll(10, TimeUnit.SECONDS));
        assertEquals("alice", events.poll(10, TimeUnit.SECONDS));
        assertEquals("TLSv1.3", events.poll(10, TimeUnit.SECONDS));
    }

    @ParameterizedTest
    @ValueSource(strings = {"alice", "mallory"})
    void nbdinfoWithWrongKeyOrUnknownUserIsRefused(String user) throws Exception {
        Path wrong = tmp.resolve("wrong.psk");
        Files.writeString(wrong, user + ":" + "5a".repeat(32) + "\n");
        Tools.Result info = Tools.run(Duration.ofSeconds(30), "nbdinfo", "--size",
                "nbds://" + user + "@127.0.0.1:" + port + "/?tls-psk-file=" + wrong);
        assertFalse(info.ok(), info.describe());
        Object event = events.poll(10, TimeUnit.SECONDS);
        assertTrue(event instanceof SslHandshakeCompletionEvent e && !e.isSuccess(), String.valueOf(event));
    }

    /**
     * Just enough of the NBD fixed-newstyle handshake for nbdinfo: STARTTLS, GO/EXPORT_NAME-free negotiation with
     * an info reply for a fixed-size export, unsupported options refused, and a disconnect command.
     */
    private static final class MiniNbdServer extends ChannelInboundHandlerAdapter {
        private static final long IHAVEOPT = 0x49484156454F5054L;
        private static final long REPLY_MAGIC = 0x3e889045565a9L;
        private static final int OPT_STARTTLS = 5;
        private static final int OPT_GO = 7;
        private static final int OPT_INFO = 6;
        private static final int REP_ACK = 1;
        private static final int REP_INFO = 3;
        private static final int REP_ERR_UNSUP = 0x80000001;
        private static final int REQUEST_MAGIC = 0x25609513;

        private final PskTls tls;
        private final BlockingQueue<Object> events;
        private ByteBuf input;
        private boolean clientFlagsRead;
        private boolean transmission;

        MiniNbdServer(PskTls tls, BlockingQueue<Object> events) {
            this.tls = tls;
            this.events = events;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            input = ctx.alloc().buffer();
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            input.release();
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            // NBDMAGIC, IHAVEOPT, FIXED_NEWSTYLE | NO_ZEROES
            ctx.writeAndFlush(ctx.alloc().buffer().writeLong(0x4e42444d41474943L).writeLong(IHAVEOPT)
                    .writeShort(3));
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            events.add(evt);
            if (evt == SslHandshakeCompletionEvent.SUCCESS) {
                PskTlsHandler handler = ctx.pipeline().get(PskTlsHandler.class);
                events.add(handler.identity());
                events.add(handler.protocolVersion());
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            input.writeBytes(in);
            in.release();
            while (ctx.channel().isActive() && step(ctx)) {
                // parse what is complete
            }
        }

        private boolean step(ChannelHandlerContext ctx) {
            if (!clientFlagsRead) {
                if (input.readableBytes() < 4) {
                    return false;
                }
                input.readInt();
                clientFlagsRead = true;
                return true;
            }
            if (transmission) {
                if (input.readableBytes() < 28) {
                    return false;
                }
                int magic = input.readInt();
                input.readShort();
                int type = input.readShort();
                long handle = input.readLong();
                input.readLong();
                int length = input.readInt();
                if (magic == REQUEST_MAGIC && type == 0 && length <= EXPORT_SIZE) {
                    // READ: a simple reply with zeros
                    ctx.writeAndFlush(ctx.alloc().buffer(16 + length).writeInt(0x67446698).writeInt(0)
                            .writeLong(handle).writeZero(length));
                    return true;
                }
                events.add(magic == REQUEST_MAGIC && type == 2 ? "disconnect" : "unexpected command " + type);
                ctx.close();
                return false;
            }
            if (input.readableBytes() < 16 || input.readableBytes() < 16 + input.getInt(input.readerIndex() + 12)) {
                return false;
            }
            input.readLong();
            int option = input.readInt();
            int length = input.readInt();
            input.skipBytes(length);
            if (option == OPT_STARTTLS) {
                ctx.writeAndFlush(reply(ctx, option, REP_ACK));
                // what the client sends from now on is TLS: the handler goes in front of this one
                ctx.pipeline().addBefore(ctx.name(), "tls", tls.newHandler());
            } else if (option == OPT_GO || option == OPT_INFO) {
                ByteBuf info = reply(ctx, option, REP_INFO);
                info.setInt(info.writerIndex() - 4, 12);
                info.writeShort(0).writeLong(EXPORT_SIZE).writeShort(1 | 2);
                ctx.write(info);
                ctx.writeAndFlush(reply(ctx, option, REP_ACK));
                transmission = option == OPT_GO;
            } else {
                ctx.writeAndFlush(reply(ctx, option, REP_ERR_UNSUP));
            }
            return true;
        }

        private static ByteBuf reply(ChannelHandlerContext ctx, int option, int type) {
            return ctx.alloc().buffer().writeLong(REPLY_MAGIC).writeInt(option).writeInt(type).writeInt(0);
        }
    }
}
