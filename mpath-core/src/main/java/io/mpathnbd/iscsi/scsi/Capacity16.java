package io.mpathnbd.iscsi.scsi;

import io.netty.buffer.ByteBuf;

/**
 * READ CAPACITY(16) parameter data (SBC-3 5.16.2). The first 12 bytes (last LBA, block length) are mandatory; the
 * provisioning and physical-block fields read as 0 when truncated away.
 */
public record Capacity16(long lastLba, int blockLength, boolean lbpme, boolean lbprz, int physicalExponent) {

    private static final int MANDATORY = 12;

    public static Capacity16 parse(ByteBuf data) {
        Bytes.require(data, MANDATORY, "READ CAPACITY(16) data");
        long lastLba = Bytes.s64(data, 0);
        long blockLength = Bytes.u32(data, 8);
        if (blockLength == 0 || blockLength > Integer.MAX_VALUE) {
            throw new ScsiFormatException("READ CAPACITY(16) data: block length " + blockLength);
        }
        if (lastLba < 0 || lastLba >= Long.MAX_VALUE / blockLength) {
            throw new ScsiFormatException("READ CAPACITY(16) data: last LBA " + Long.toUnsignedString(lastLba)
                    + " with " + blockLength + "-byte blocks does not fit in 63 bits");
        }
        int readable = data.readableBytes();
        int exponent = readable > 13 ? Bytes.u8(data, 13) & 0x0f : 0;
        int provisioning = readable > 14 ? Bytes.u8(data, 14) : 0;
        return new Capacity16(lastLba, (int) blockLength, (provisioning & 0x80) != 0, (provisioning & 0x40) != 0,
                exponent);
    }

    public long blocks() {
        return lastLba + 1;
    }

    public long sizeBytes() {
        return blocks() * blockLength;
    }

    /** Physical block size: logical blocks per physical block is 2^exponent. */
    public long physicalBlockLength() {
        return (long) blockLength << physicalExponent;
    }
}
