package io.mpathnbd.bench;

import io.mpathnbd.nbd.protocol.NbdConstants;
import io.mpathnbd.nbd.protocol.NbdRequest;
import io.mpathnbd.nbd.protocol.NbdRequestDecoder;
import io.mpathnbd.nbd.protocol.NbdRequestEncoder;
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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The front end's request decoder (client bytes to {@link NbdRequest}) and the NBD backend's request encoder
 * ({@link NbdRequest} to bytes for a backend server), each through a channel pipeline as on a real connection.
 * Times are per request.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RequestCodecBenchmark {
    static final int BATCH = 16;
    private static final int MIB = 1 << 20;
    private static final int READ_PIECE = 64 * 1024;

    private EmbeddedChannel decoder;
    private EmbeddedChannel encoder;
    /** 16 READ headers back to back, as one socket read. */
    private ByteBuf reads;
    /** 16 4 KiB WRITEs back to back, as one socket read. */
    private ByteBuf writes4k;
    /** One 1 MiB WRITE, delivered in 64 KiB socket reads. */
    private ByteBuf write1m;
    private ByteBuf payload4k;

    @Setup
    public void setUp() {
        decoder = new EmbeddedChannel(new NbdRequestDecoder(32 * MIB));
        encoder = new EmbeddedChannel(new NbdRequestEncoder());
        reads = Wire.direct(BATCH * NbdConstants.REQUEST_HEADER_LENGTH);
        writes4k = Wire.direct(BATCH * (NbdConstants.REQUEST_HEADER_LENGTH + 4096));
        for (int i = 0; i < BATCH; i++) {
            Wire.requestHeader(reads, NbdConstants.CMD_READ, i, i * 4096L, 4096);
            Wire.requestHeader(writes4k, NbdConstants.CMD_WRITE, i, i * 4096L, 4096);
            Wire.fill(writes4k, 4096);
        }
        write1m = Wire.direct(NbdConstants.REQUEST_HEADER_LENGTH + MIB);
        Wire.requestHeader(write1m, NbdConstants.CMD_WRITE, 1, 0, MIB);
        Wire.fill(write1m, MIB);
        payload4k = Wire.direct(4096);
        Wire.fill(payload4k, 4096);
    }

    @TearDown
    public void tearDown() {
        decoder.finishAndReleaseAll();
        encoder.finishAndReleaseAll();
        reads.release();
        writes4k.release();
        write1m.release();
        payload4k.release();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int decodeReadRequests() {
        decoder.writeInbound(reads.retainedDuplicate());
        return Wire.drainInbound(decoder);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int decodeWrite4kRequests() {
        decoder.writeInbound(writes4k.retainedDuplicate());
        return Wire.drainInbound(decoder);
    }

    /** A large WRITE spread over socket reads: gathered as slices of the reads, not copied. */
    @Benchmark
    public int decodeWrite1MiBIn64KiBReads() {
        int total = write1m.readableBytes();
        for (int i = 0; i < total; i += READ_PIECE) {
            decoder.writeInbound(write1m.retainedSlice(i, Math.min(READ_PIECE, total - i)));
        }
        return Wire.drainInbound(decoder);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long encodeReadRequests() {
        for (int i = 0; i < BATCH; i++) {
            encoder.write(new NbdRequest(0, NbdConstants.CMD_READ, i, i * 4096L, 4096));
        }
        encoder.flush();
        return Wire.drainOutbound(encoder);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long encodeWrite4kRequests() {
        for (int i = 0; i < BATCH; i++) {
            encoder.write(new NbdRequest(0, NbdConstants.CMD_WRITE, i, i * 4096L, 4096,
                    payload4k.retainedDuplicate()));
        }
        encoder.flush();
        return Wire.drainOutbound(encoder);
    }
}
