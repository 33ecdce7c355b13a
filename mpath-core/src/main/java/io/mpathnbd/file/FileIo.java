package io.mpathnbd.file;

import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/** Positional reads and writes on a file channel, shared by plain and zoned sessions. Allocation-free. */
final class FileIo {
    /** Shared source for zeroes; positional writes only read it. */
    private static final ByteBuffer ZEROES = ByteBuffer.allocateDirect(256 * 1024).asReadOnlyBuffer();

    private FileIo() {
    }

    /** Appends {@code length} bytes of the file from {@code offset} to {@code buf}. */
    static void readInto(FileChannel channel, ByteBuf buf, long offset, int length) throws IOException {
        int done = 0;
        while (done < length) {
            int n = buf.writeBytes(channel, offset + done, length - done);
            if (n < 0) {
                throw new IOException("short read: end of file at " + (offset + done) + " (did the file shrink?)");
            }
            done += n;
        }
    }

    static void write(FileChannel channel, ByteBuf payload, long offset, int length) throws IOException {
        long position = offset;
        for (ByteBuffer b : payload.nioBuffers(payload.readerIndex(), length)) {
            while (b.hasRemaining()) {
                position += channel.write(b, position);
            }
        }
    }

    static void writeZeroes(FileChannel channel, long offset, int length) throws IOException {
        long position = offset;
        long end = offset + length;
        while (position < end) {
            ByteBuffer z = ZEROES.duplicate();
            z.limit((int) Math.min(z.capacity(), end - position));
            while (z.hasRemaining()) {
                position += channel.write(z, position);
            }
        }
    }
}
