package io.mpathnbd.file;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.mpathnbd.core.zone.ZoneSpec;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shared zone state of one image: counted users, and saving when the last leaves, even from a lost session. */
class ZonedImageTest {
    private static final int ZONE = 64 * 1024;
    private static final ZoneSpec SPEC = ZoneSpec.of(ZONE);

    @TempDir
    Path dir;

    @Test
    void theLastUserSavesEvenWithItsChannelClosed() throws Exception {
        Path img = dir.resolve("z.img");
        Files.write(img, new byte[4 * ZONE]);
        ZonedImage first = ZonedImage.acquire(img, SPEC, 4 * ZONE, false);
        ZonedImage second = ZonedImage.acquire(img, SPEC, 4 * ZONE, false);
        assertSame(first, second, "one disk, one state");
        assertNull(first.zones().beginWrite(ZONE, 4096));
        first.zones().endWrite(ZONE, 4096, true);
        FileChannel lost = FileChannel.open(img, StandardOpenOption.READ, StandardOpenOption.WRITE);
        lost.close(); // as a session whose channel an interrupt closed
        first.release(lost);
        second.release(lost);

        ZonedImage again = ZonedImage.acquire(img, SPEC, 4 * ZONE, false);
        try {
            assertEquals(ZONE + 4096, again.zones().zone(1).writePointer(), "saved by the last release");
        } finally {
            again.release(null);
        }
    }
}
