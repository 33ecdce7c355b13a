package io.mpathnbd.file;

import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.zone.HostManagedZones;
import io.mpathnbd.core.zone.ZoneError;
import io.mpathnbd.core.zone.ZoneRefusal;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.nio.channels.FileChannel;

/**
 * Reads and writes of a zoned session: every write asks the state machine first and tells it after, every read
 * returns zeros past each zone's data. Allocation-free but for the failure of a refused request.
 */
final class ZonedIo {
    private final HostManagedZones zones;
    private final FileChannel channel;

    ZonedIo(HostManagedZones zones, FileChannel channel) {
        this.zones = zones;
        this.channel = channel;
    }

    /**
     * Appends {@code length} bytes from {@code offset} to {@code buf}: the image's bytes below each zone's data end,
     * zeros from there to the zone's end. The data end is taken before the image is read, so what it covers has
     * landed. A read that touches an offline zone fails (ZONE_OFFLINE); {@code buf} then holds part of the range.
     */
    Failure read(ByteBuf buf, long offset, int length) throws IOException {
        long position = offset;
        long end = offset + length;
        while (position < end) {
            int z = zones.zoneIndex(position);
            long segmentEnd = Math.min(end, zones.zoneEnd(z));
            long readable = zones.readableEnd(z);
            if (readable < 0) {
                return Failure.zone(ZoneError.ZONE_OFFLINE, "read of " + length + " bytes at " + offset
                        + " touches offline zone " + z);
            }
            long dataEnd = Math.min(segmentEnd, Math.max(position, readable));
            FileIo.readInto(channel, buf, position, (int) (dataEnd - position));
            buf.writeZero((int) (segmentEnd - dataEnd));
            position = segmentEnd;
        }
        return null;
    }

    /**
     * Writes {@code payload} (null: zeros, for WRITE_ZEROES) at {@code offset} if the zone model admits it. The
     * write pointer moves only when every byte is written; an I/O error leaves it where it was.
     */
    Failure write(ByteBuf payload, long offset, int length) throws IOException {
        ZoneRefusal refusal = zones.beginWrite(offset, length);
        if (refusal != null) {
            return Failure.zone(refusal.error(), refusal.message());
        }
        boolean landed = false;
        try {
            if (payload != null) {
                FileIo.write(channel, payload, offset, length);
            } else {
                FileIo.writeZeroes(channel, offset, length);
            }
            landed = true;
        } finally {
            zones.endWrite(offset, length, landed);
        }
        return null;
    }
}
