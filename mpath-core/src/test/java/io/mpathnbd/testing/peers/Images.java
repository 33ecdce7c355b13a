package io.mpathnbd.testing.peers;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

/** Disk image files for the peers, and direct access to them to check what a test wrote through NBD. */
public final class Images {
    private Images() {
    }

    /** Creates (or truncates to) a sparse file {@code dir/name} of {@code size} bytes; creates {@code dir} if needed. */
    public static Path sparse(Path dir, String name, long size) {
        try {
            Files.createDirectories(dir);
            Path image = dir.resolve(name);
            try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
                f.setLength(0);
                f.setLength(size);
            }
            return image;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create image " + dir.resolve(name), e);
        }
    }

    /** Writes {@code data} at {@code offset} directly into the image file (bypassing every NBD server). */
    public static void write(Path image, long offset, byte[] data) {
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(data);
            long pos = offset;
            while (b.hasRemaining()) {
                pos += ch.write(b, pos);
            }
            ch.force(false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write image " + image, e);
        }
    }

    /** Reads {@code length} bytes at {@code offset} directly from the image file (bytes past its end read as 0). */
    public static byte[] read(Path image, long offset, int length) {
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(length);
            long pos = offset;
            while (b.hasRemaining()) {
                int n = ch.read(b, pos);
                if (n < 0) {
                    break;
                }
                pos += n;
            }
            return b.array();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read image " + image, e);
        }
    }

    /** {@code length} reproducible pseudo-random bytes: the same seed gives the same bytes, for data checks. */
    public static byte[] pattern(long seed, int length) {
        byte[] data = new byte[length];
        new Random(seed).nextBytes(data);
        return data;
    }
}
