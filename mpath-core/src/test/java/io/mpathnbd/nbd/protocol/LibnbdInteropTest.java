package io.mpathnbd.nbd.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.request.Extents;
import io.mpathnbd.testing.peers.Tools;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The server-side codecs against a real NBD client (libnbd, through nbdsh and nbdinfo). The answers come from
 * {@link FakeDiskServer}, a test-only responder built on the codecs; it stands in for the front end, which is tested
 * on its own. libnbd checks every message strictly, so a wrong length, field or chunk would make it fail.
 */
class LibnbdInteropTest {
    private static final int SIZE = 1 << 20;

    private static EventLoopGroup group;
    private static Channel server;
    private static int port;

    @BeforeAll
    static void start() throws InterruptedException {
        // nbdsh itself is not checked here: Tools.require's python probe resolves python3 through the JVM's PATH;
        // a missing nbdsh fails the test through assertOk all the same
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        Tools.require("nbdinfo");
        byte[] disk = new byte[SIZE];
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast("decoder", new NbdServerHandshakeDecoder(4096));
                        ch.pipeline().addLast(new NbdServerHandshakeEncoder(), new NbdReplyEncoder());
                        ch.pipeline().addLast(new FakeDiskServer(disk));
                    }
                }).bind("127.0.0.1", 0).sync().channel();
        port = ((InetSocketAddress) server.localAddress()).getPort();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close().syncUninterruptibly();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void nbdshNegotiatesEverythingAndDoesIo() {
        String script = String.join("\n",
                "h.set_export_name('disk')",
                "h.set_full_info(True)",
                "h.set_request_block_size(True)",
                "h.add_meta_context('base:allocation')",
                "h.connect_tcp('127.0.0.1', '" + port + "')",
                "print('size', h.get_size())",
                "print('structured', h.get_structured_replies_negotiated())",
                "print('meta', h.can_meta_context('base:allocation'))",
                "print('name', h.get_canonical_export_name())",
                "print('description', h.get_export_description())",
                "print('block', h.get_block_size(0), h.get_block_size(1), h.get_block_size(2))",
                "data = bytes(range(256)) * 16",
                "h.pwrite(data, 8192)",
                "print('read', h.pread(4096, 8192) == data)",
                "print('hole', h.pread(4096, 0) == bytes(4096))",
                "ext = []",
                "h.block_status(65536, 0, lambda ctx, off, e, err: ext.append((ctx, list(e))))",
                "print('extents', ext)",
                "h.flush()",
                "h.shutdown()");
        Tools.Result r = Tools.run(Duration.ofSeconds(30), "nbdsh", "-c", script).assertOk();
        List<String> expected = List.of(
                "size " + SIZE,
                "structured True",
                "meta True",
                "name disk",
                "description a fake disk",
                "block 1 4096 1048576",
                "read True",
                "hole True",
                "extents [('base:allocation', [8192, 3, 4096, 0, 53248, 3])]");
        assertEquals(String.join("\n", expected), r.stdout().strip(), r.describe());
    }

    @Test
    void nbdinfoListsContextsAndExport() {
        Tools.Result r = Tools.run(Duration.ofSeconds(30), "nbdinfo", "--json",
                "nbd://127.0.0.1:" + port + "/disk").assertOk();
        String json = r.stdout();
        assertTrue(json.contains("\"export-size\": " + SIZE), json);
        assertTrue(json.contains("\"base:allocation\""), json);
        assertTrue(json.contains("\"description\": \"a fake disk\""), json);
        assertTrue(json.contains("\"can_flush\": true"), json);
    }

    /**
     * A fake NBD server for one in-memory disk named "disk": just enough option and request handling to let a real
     * client exercise every server-side codec. Not the gateway's front end.
     */
    private static final class FakeDiskServer extends ChannelInboundHandlerAdapter {
        private static final int FLAGS = NbdConstants.TFLAG_HAS_FLAGS | NbdConstants.TFLAG_SEND_FLUSH
                | NbdConstants.TFLAG_SEND_FUA;
        private static final int BLOCK = 4096;

        private final byte[] disk;
        private boolean structured;

        FakeDiskServer(byte[] disk) {
            this.disk = disk;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.writeAndFlush(new NbdServerGreeting(NbdConstants.FLAG_FIXED_NEWSTYLE | NbdConstants.FLAG_NO_ZEROES));
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof NbdOption) {
                    option(ctx, (NbdOption) msg);
                } else if (msg instanceof NbdRequest) {
                    request(ctx, (NbdRequest) msg);
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void option(ChannelHandlerContext ctx, NbdOption o) {
            int opt = o.option();
            try {
                switch (opt) {
                    case NbdConstants.OPT_STRUCTURED_REPLY:
                        structured = true;
                        reply(ctx, opt, NbdConstants.REP_ACK, null);
                        return;
                    case NbdConstants.OPT_LIST_META_CONTEXT:
                    case NbdConstants.OPT_SET_META_CONTEXT:
                        NbdOptionPayloads.MetaContextRequest m = NbdOptionPayloads.parseMetaContext(o.data());
                        boolean all = opt == NbdConstants.OPT_LIST_META_CONTEXT && m.queries().isEmpty();
                        if (all || m.queries().contains(NbdConstants.META_BASE_ALLOCATION)) {
                            reply(ctx, opt, NbdConstants.REP_META_CONTEXT,
                                    NbdOptionPayloads.metaContext(ctx.alloc(), 1, NbdConstants.META_BASE_ALLOCATION));
                        }
                        reply(ctx, opt, NbdConstants.REP_ACK, null);
                        return;
                    case NbdConstants.OPT_INFO:
                    case NbdConstants.OPT_GO:
                        NbdOptionPayloads.ExportRequest e = NbdOptionPayloads.parseInfoOrGo(o.data());
                        if (!e.name().equals("disk")) {
                            reply(ctx, opt, NbdConstants.REP_ERR_UNKNOWN,
                                    NbdOptionPayloads.errorMessage(ctx.alloc(), "no export " + e.name()));
                            return;
                        }
                        reply(ctx, opt, NbdConstants.REP_INFO, NbdOptionPayloads.infoExport(ctx.alloc(), disk.length,
                                FLAGS));
                        for (int info : e.infoRequests()) {
                            if (info == NbdConstants.INFO_NAME) {
                                reply(ctx, opt, NbdConstants.REP_INFO, NbdOptionPayloads.infoName(ctx.alloc(), "disk"));
                            } else if (info == NbdConstants.INFO_DESCRIPTION) {
                                reply(ctx, opt, NbdConstants.REP_INFO,
                                        NbdOptionPayloads.infoDescription(ctx.alloc(), "a fake disk"));
                            } else if (info == NbdConstants.INFO_BLOCK_SIZE) {
                                reply(ctx, opt, NbdConstants.REP_INFO,
                                        NbdOptionPayloads.infoBlockSize(ctx.alloc(), 1, BLOCK, 1 << 20));
                            }
                        }
                        reply(ctx, opt, NbdConstants.REP_ACK, null);
                        if (opt == NbdConstants.OPT_GO) {
                            ctx.pipeline().replace("decoder", "decoder", new NbdRequestDecoder(1 << 20));
                        }
                        return;
                    case NbdConstants.OPT_ABORT:
                        ctx.writeAndFlush(new NbdOptionReply(opt, NbdConstants.REP_ACK, null))
                                .addListener(ChannelFutureListener.CLOSE);
                        return;
                    default:
                        reply(ctx, opt, NbdConstants.REP_ERR_UNSUP, null);
                }
            } catch (NbdProtocolException bad) {
                reply(ctx, opt, NbdConstants.REP_ERR_INVALID, NbdOptionPayloads.errorMessage(ctx.alloc(),
                        bad.getMessage()));
            }
        }

        private static void reply(ChannelHandlerContext ctx, int option, int type, ByteBuf data) {
            ctx.writeAndFlush(new NbdOptionReply(option, type, data));
        }

        private void request(ChannelHandlerContext ctx, NbdRequest r) {
            long end = r.offset() + r.length();
            switch (r.type()) {
                case NbdConstants.CMD_READ:
                    byte[] copy = java.util.Arrays.copyOfRange(disk, (int) r.offset(), (int) end);
                    if (!structured) {
                        ctx.writeAndFlush(new NbdSimpleReply(0, r.cookie(), Unpooled.wrappedBuffer(copy)));
                    } else if (allZero(copy)) {
                        ctx.writeAndFlush(new NbdOffsetHoleChunk(NbdConstants.REPLY_FLAG_DONE, r.cookie(), r.offset(),
                                (int) r.length()));
                    } else {
                        ctx.writeAndFlush(new NbdOffsetDataChunk(NbdConstants.REPLY_FLAG_DONE, r.cookie(), r.offset(),
                                Unpooled.wrappedBuffer(copy)));
                    }
                    return;
                case NbdConstants.CMD_WRITE:
                    r.payload().getBytes(r.payload().readerIndex(), disk, (int) r.offset(), (int) r.length());
                    ctx.writeAndFlush(new NbdSimpleReply(0, r.cookie()));
                    return;
                case NbdConstants.CMD_FLUSH:
                    ctx.writeAndFlush(new NbdSimpleReply(0, r.cookie()));
                    return;
                case NbdConstants.CMD_BLOCK_STATUS:
                    ctx.writeAndFlush(new NbdBlockStatusChunk(NbdConstants.REPLY_FLAG_DONE, r.cookie(), 1,
                            extents((int) r.offset(), (int) end)));
                    return;
                case NbdConstants.CMD_DISC:
                    ctx.close();
                    return;
                default:
                    ctx.writeAndFlush(new NbdErrorChunk(NbdConstants.REPLY_FLAG_DONE, r.cookie(), 22,
                            "unsupported command"));
            }
        }

        /** base:allocation per 4 KiB block: all zero is HOLE|ZERO, anything else data; equal neighbours merged. */
        private Extents extents(int from, int to) {
            List<int[]> runs = new ArrayList<>();
            for (int at = from; at < to; at += BLOCK) {
                int len = Math.min(BLOCK, to - at);
                int flags = allZero(java.util.Arrays.copyOfRange(disk, at, at + len))
                        ? Extents.HOLE | Extents.ZERO : 0;
                if (!runs.isEmpty() && runs.get(runs.size() - 1)[1] == flags) {
                    runs.get(runs.size() - 1)[0] += len;
                } else {
                    runs.add(new int[] {len, flags});
                }
            }
            return new Extents(runs.stream().mapToInt(x -> x[0]).toArray(), runs.stream().mapToInt(x -> x[1]).toArray());
        }

        private static boolean allZero(byte[] b) {
            for (byte x : b) {
                if (x != 0) {
                    return false;
                }
            }
            return true;
        }
    }
}
