package io.mpathnbd.nbd.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.request.Extents;
import io.mpathnbd.core.support.WireBytes;
import io.mpathnbd.testing.peers.Images;
import io.mpathnbd.testing.peers.Nbdkit;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The client-side codecs against a real NBD server (nbdkit's memory plugin) over TCP: the handshake in both styles
 * (GO with structured replies and a meta context; EXPORT_NAME with simple replies), then WRITE, READ and BLOCK_STATUS
 * and an error reply, each decoded by the codecs under test and checked against what was written.
 */
class NbdkitInteropTest {
    private static final long SIZE = 1 << 20;
    private static final int DATA_AT = 256 << 10;

    private static EventLoopGroup group;

    @BeforeAll
    static void startGroup() {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    @AfterAll
    static void stopGroup() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void goWithStructuredRepliesAndBaseAllocation() throws Exception {
        try (Nbdkit server = Nbdkit.memory(SIZE); Client client = Client.connect(server)) {
            NbdServerGreeting greeting = client.next(NbdServerGreeting.class);
            assertEquals(NbdConstants.FLAG_FIXED_NEWSTYLE | NbdConstants.FLAG_NO_ZEROES, greeting.handshakeFlags());
            client.send(new NbdClientFlags(NbdConstants.CLIENT_FLAG_FIXED_NEWSTYLE | NbdConstants.CLIENT_FLAG_NO_ZEROES));

            client.send(new NbdOption(NbdConstants.OPT_STRUCTURED_REPLY, null));
            expectAck(client, NbdConstants.OPT_STRUCTURED_REPLY);

            client.send(new NbdOption(NbdConstants.OPT_SET_META_CONTEXT, NbdOptionPayloads.metaContextQuery(
                    ByteBufAllocator.DEFAULT, "", NbdConstants.META_BASE_ALLOCATION)));
            NbdOptionReply context = client.next(NbdOptionReply.class);
            assertEquals(NbdConstants.REP_META_CONTEXT, context.replyType());
            NbdOptionPayloads.MetaContextRecord record = NbdOptionPayloads.parseMetaContextReply(context.data());
            assertEquals(NbdConstants.META_BASE_ALLOCATION, record.name());
            context.release();
            expectAck(client, NbdConstants.OPT_SET_META_CONTEXT);

            client.send(new NbdOption(NbdConstants.OPT_GO, NbdOptionPayloads.infoOrGo(ByteBufAllocator.DEFAULT, "",
                    NbdConstants.INFO_BLOCK_SIZE)));
            boolean sawExport = false;
            while (true) {
                NbdOptionReply reply = client.next(NbdOptionReply.class);
                try {
                    assertFalse(reply.isError(), () -> "GO failed: " + reply);
                    if (reply.replyType() == NbdConstants.REP_ACK) {
                        break;
                    }
                    assertEquals(NbdConstants.REP_INFO, reply.replyType());
                    NbdOptionPayloads.InfoRecord info = NbdOptionPayloads.parseInfo(reply.data());
                    if (info.type() == NbdConstants.INFO_EXPORT) {
                        sawExport = true;
                        assertEquals(SIZE, info.size());
                        assertTrue((info.flags() & NbdConstants.TFLAG_HAS_FLAGS) != 0);
                    } else if (info.type() == NbdConstants.INFO_BLOCK_SIZE) {
                        assertTrue(info.minBlock() >= 1 && info.minBlock() <= info.preferredBlock());
                    }
                } finally {
                    reply.release();
                }
            }
            assertTrue(sawExport, "GO must report INFO_EXPORT before its ACK");
            client.startTransmission();

            byte[] pattern = Images.pattern(7, 4096);
            client.write(DATA_AT, pattern);
            assertSuccess(client.next(Object.class));

            // READ 8 KiB straddling the written block: 4 KiB never written, then the pattern
            long cookie = client.request(NbdConstants.CMD_READ, DATA_AT - 4096, 8192);
            byte[] got = new byte[8192];
            while (true) {
                NbdChunk chunk = client.next(NbdChunk.class);
                try {
                    assertEquals(cookie, chunk.cookie());
                    if (chunk instanceof NbdOffsetDataChunk) {
                        NbdOffsetDataChunk data = (NbdOffsetDataChunk) chunk;
                        data.data().getBytes(data.data().readerIndex(), got,
                                (int) (data.offset() - (DATA_AT - 4096)), data.data().readableBytes());
                    } else if (!(chunk instanceof NbdOffsetHoleChunk) && !(chunk instanceof NbdNoneChunk)) {
                        throw new AssertionError("unexpected chunk " + chunk);
                    }
                    if (chunk.isDone()) {
                        break;
                    }
                } finally {
                    chunk.release();
                }
            }
            assertArrayEquals(new byte[4096], java.util.Arrays.copyOf(got, 4096));
            assertArrayEquals(pattern, java.util.Arrays.copyOfRange(got, 4096, 8192));

            cookie = client.request(NbdConstants.CMD_BLOCK_STATUS, 0, (int) SIZE);
            NbdBlockStatusChunk status = client.next(NbdBlockStatusChunk.class);
            assertEquals(cookie, status.cookie());
            assertEquals(record.id(), status.contextId());
            Extents extents = status.extents();
            assertTrue((extents.flags(0) & Extents.HOLE) != 0, () -> "offset 0 was never written: " + extents);
            long at = 0;
            int dataFlags = -1;
            for (int i = 0; i < extents.count(); i++) {
                if (at <= DATA_AT && DATA_AT < at + Integer.toUnsignedLong(extents.length(i))) {
                    dataFlags = extents.flags(i);
                }
                at += Integer.toUnsignedLong(extents.length(i));
            }
            assertEquals(0, dataFlags & Extents.HOLE, () -> "the written block is allocated: " + extents);
            boolean statusDone = status.isDone();
            status.release();
            if (!statusDone) {
                ReferenceCountUtil.release(assertInstanceOf(NbdNoneChunk.class, client.next(NbdChunk.class)));
            }

            // a READ past the end is refused with EINVAL in an error chunk
            cookie = client.request(NbdConstants.CMD_READ, SIZE, 512);
            NbdChunk error = client.next(NbdChunk.class);
            assertEquals(cookie, error.cookie());
            assertTrue(error.isError());
            assertEquals(22, ((NbdErrorChunk) error).error());
            boolean errorDone = error.isDone();
            error.release();
            if (!errorDone) {
                ReferenceCountUtil.release(assertInstanceOf(NbdNoneChunk.class, client.next(NbdChunk.class)));
            }

            client.request(NbdConstants.CMD_DISC, 0, 0);
            assertTrue(client.channel.closeFuture().await(10, TimeUnit.SECONDS), "nbdkit closes after DISC");
        }
    }

    @Test
    void exportNameWithSimpleReplies() throws Exception {
        try (Nbdkit server = Nbdkit.memory(SIZE); Client client = Client.connect(server)) {
            assertNotNull(client.next(NbdServerGreeting.class));
            client.send(new NbdClientFlags(NbdConstants.CLIENT_FLAG_FIXED_NEWSTYLE));
            // without NO_ZEROES on the client side the 124 zero bytes follow
            client.eventLoop(() -> client.handshakeDecoder.expectExportNameReply(false));
            client.send(new NbdOption(NbdConstants.OPT_EXPORT_NAME, null));
            NbdExportNameReply export = client.next(NbdExportNameReply.class);
            assertEquals(SIZE, export.size());
            assertTrue((export.transmissionFlags() & NbdConstants.TFLAG_HAS_FLAGS) != 0);
            client.startTransmission();

            byte[] pattern = Images.pattern(11, 65536);
            client.write(DATA_AT, pattern);
            assertSuccess(client.next(Object.class));
            long cookie = client.request(NbdConstants.CMD_READ, DATA_AT, pattern.length);
            NbdSimpleReply read = client.next(NbdSimpleReply.class);
            try {
                assertEquals(cookie, read.cookie());
                assertEquals(0, read.error());
                assertArrayEquals(pattern, WireBytes.content(read.data()));
            } finally {
                read.release();
            }
            // a failed READ carries no data: the next reply must still decode
            cookie = client.request(NbdConstants.CMD_READ, SIZE, 4096);
            NbdSimpleReply failed = client.next(NbdSimpleReply.class);
            assertEquals(cookie, failed.cookie());
            assertEquals(22, failed.error());
            assertEquals(0, failed.data().readableBytes());
            failed.release();
            cookie = client.request(NbdConstants.CMD_FLUSH, 0, 0);
            NbdSimpleReply flushed = client.next(NbdSimpleReply.class);
            assertEquals(cookie, flushed.cookie());
            assertEquals(0, flushed.error());
            flushed.release();
        }
    }

    private static void expectAck(Client client, int option) throws InterruptedException {
        NbdOptionReply ack = client.next(NbdOptionReply.class);
        assertEquals(option, ack.option());
        assertEquals(NbdConstants.REP_ACK, ack.replyType(), () -> "reply " + ack);
        ack.release();
    }

    /** A successful reply to a request without data: a simple reply, or a final chunk that is not an error. */
    private static void assertSuccess(Object reply) {
        try {
            if (reply instanceof NbdSimpleReply) {
                assertEquals(0, ((NbdSimpleReply) reply).error());
            } else {
                NbdChunk chunk = (NbdChunk) reply;
                assertFalse(chunk.isError(), () -> "error reply " + chunk);
                assertTrue(chunk.isDone());
            }
        } finally {
            ReferenceCountUtil.release(reply);
        }
    }

    /** A minimal NBD client made of the codecs under test, driven step by step by the test thread. */
    private static final class Client implements AutoCloseable {
        private final BlockingQueue<Object> inbound = new LinkedBlockingQueue<>();
        private final Map<Long, Integer> pending = new ConcurrentHashMap<>();
        private final AtomicLong cookies = new AtomicLong(100);
        private final NbdClientHandshakeDecoder handshakeDecoder = new NbdClientHandshakeDecoder(1 << 16);
        private volatile Throwable failure;
        private Channel channel;

        static Client connect(Nbdkit server) throws InterruptedException {
            Client c = new Client();
            c.channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast("decoder", c.handshakeDecoder);
                            ch.pipeline().addLast(new NbdClientHandshakeEncoder(), new NbdRequestEncoder());
                            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                                @Override
                                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                    if (msg instanceof NbdSimpleReply) {
                                        c.pending.remove(((NbdSimpleReply) msg).cookie());
                                    } else if (msg instanceof NbdChunk && ((NbdChunk) msg).isDone()) {
                                        c.pending.remove(((NbdChunk) msg).cookie());
                                    }
                                    c.inbound.add(msg);
                                }

                                @Override
                                public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                    c.failure = cause;
                                    ctx.close();
                                }
                            });
                        }
                    }).connect(server.host(), server.port()).sync().channel();
            return c;
        }

        <T> T next(Class<T> type) throws InterruptedException {
            Object m = inbound.poll(10, TimeUnit.SECONDS);
            if (m == null) {
                throw new AssertionError("no message from the server within 10 s", failure);
            }
            if (!type.isInstance(m)) {
                ReferenceCountUtil.release(m);
                throw new AssertionError("expected " + type.getSimpleName() + ", got " + m, failure);
            }
            return type.cast(m);
        }

        void send(Object msg) throws InterruptedException {
            channel.writeAndFlush(msg).sync();
        }

        void eventLoop(Runnable r) throws Exception {
            channel.eventLoop().submit(r).get(10, TimeUnit.SECONDS);
        }

        /** Hands the rest of the stream to the reply decoder, as the NBD backend does after the handshake. */
        void startTransmission() throws Exception {
            eventLoop(() -> channel.pipeline().replace("decoder", "decoder",
                    new NbdReplyDecoder(cookie -> pending.getOrDefault(cookie, -1), 1 << 20)));
        }

        long request(int type, long offset, int length) throws InterruptedException {
            long cookie = cookies.incrementAndGet();
            pending.put(cookie, type == NbdConstants.CMD_READ ? length : 0);
            send(new NbdRequest(0, type, cookie, offset, length));
            return cookie;
        }

        long write(long offset, byte[] data) throws InterruptedException {
            long cookie = cookies.incrementAndGet();
            pending.put(cookie, 0);
            ByteBuf payload = channel.alloc().buffer(data.length).writeBytes(data);
            send(new NbdRequest(0, NbdConstants.CMD_WRITE, cookie, offset, data.length, payload));
            return cookie;
        }

        @Override
        public void close() {
            channel.close().syncUninterruptibly();
            Object m;
            while ((m = inbound.poll()) != null) {
                ReferenceCountUtil.release(m);
            }
            if (failure != null) {
                throw new AssertionError("channel failed", failure);
            }
        }
    }
}
