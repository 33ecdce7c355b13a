package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The iSCSI digest: CRC32C (Castagnoli) over buffer regions, transmitted least significant byte first (RFC 7143
 * appendix B.4 lists the value for 32 zero bytes as the wire bytes aa 36 91 8a). One instance per codec, reused.
 * Not thread-safe.
 */
public final class Crc32c {
    private final CRC32C crc = new CRC32C();

    public Crc32c reset() {
        crc.reset();
        return this;
    }

    /** Adds {@code length} bytes of {@code buf} from absolute {@code index}, without moving its indexes. */
    public Crc32c update(ByteBuf buf, int index, int length) {
        if (length == 0) {
            return this;
        }
        if (buf.hasArray()) {
            crc.update(buf.array(), buf.arrayOffset() + index, length);
        } else if (buf.nioBufferCount() == 1) {
            crc.update(buf.nioBuffer(index, length));
        } else {
            for (ByteBuffer b : buf.nioBuffers(index, length)) {
                crc.update(b);
            }
        }
        return this;
    }

    /** Adds {@code count} zero bytes (padding). */
    public Crc32c updateZeroes(int count) {
        for (int i = 0; i < count; i++) {
            crc.update(0);
        }
        return this;
    }

    /** The CRC32C value as a number (e.g. 0x8a9136aa for 32 zero bytes). */
    public int value() {
        return (int) crc.getValue();
    }

    /** CRC32C of a region, computed in one step. */
    public int of(ByteBuf buf, int index, int length) {
        return reset().update(buf, index, length).value();
    }
}
