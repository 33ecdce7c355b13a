package io.mpathnbd.bench;

import io.mpathnbd.nbd.protocol.NbdConstants;
import io.mpathnbd.nbd.protocol.NbdOffsetDataChunk;
import io.mpathnbd.nbd.protocol.NbdReplyDecoder;
import io.mpathnbd.nbd.protocol.NbdReplyEncoder;
import io.mpathnbd.nbd.protocol.NbdSimpleReply;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A READ reply on its way from a backend server to the client: the NBD backend's reply decoder takes the server's
 * simple reply (the data as it arrives in socket reads), and the front end's reply encoder sends the data on as a
 * structured OFFSET_DATA chunk or a simple reply. The data is passed along, never copied; what is measured is the
 * per-reply cost of framing. Times are per reply.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ReplyForwardingBenchmark {
    static final int BATCH = 16;
    private static final int MIB = 1 << 20;
    private static final int READ_PIECE = 64 * 1024;

    /** Bytes of READ data per reply. */
    @Param({"4096", "1048576"})
    public int length;

    /** Whether the client negotiated structured replies (qemu, libnbd) or not (the Linux kernel). */
    @Param({"true", "false"})
    public boolean structured;

    private EmbeddedChannel backend;
    private EmbeddedChannel frontend;
    /** {@link #BATCH} replies back to back, as the server sent them. */
    private ByteBuf replies;

    @Setup
    public void setUp() {
        int len = length;
        backend = new EmbeddedChannel(new NbdReplyDecoder(cookie -> len, 32 * MIB));
        frontend = new EmbeddedChannel(new NbdReplyEncoder());
        replies = Wire.direct(BATCH * (NbdConstants.SIMPLE_REPLY_HEADER_LENGTH + length));
        for (int i = 0; i < BATCH; i++) {
            Wire.simpleReplyHeader(replies, i);
            Wire.fill(replies, length);
        }
    }

    @TearDown
    public void tearDown() {
        backend.finishAndReleaseAll();
        frontend.finishAndReleaseAll();
        replies.release();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long forwardReadReplies() {
        int total = replies.readableBytes();
        for (int i = 0; i < total; i += READ_PIECE) {
            backend.writeInbound(replies.retainedSlice(i, Math.min(READ_PIECE, total - i)));
        }
        Object m;
        while ((m = backend.readInbound()) != null) {
            NbdSimpleReply reply = (NbdSimpleReply) m;
            ByteBuf data = reply.content();
            frontend.write(structured
                    ? new NbdOffsetDataChunk(NbdConstants.REPLY_FLAG_DONE, reply.cookie(), 0, data)
                    : new NbdSimpleReply(0, reply.cookie(), data));
        }
        frontend.flush();
        return Wire.drainOutbound(frontend);
    }
}
