package io.mpathnbd.iscsi.scsi;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;

/** Test data helper: hex to buffers whose reader index is NOT 0, so parsers must read relative to it. */
final class Hex {
    private Hex() {
    }

    static byte[] bytes(String hex) {
        return ByteBufUtil.decodeHexDump(hex.replace(" ", ""));
    }

    /** Three junk bytes before and after the data; reader index on the first data byte, writer index after it. */
    static ByteBuf buf(String hex) {
        byte[] data = bytes(hex);
        ByteBuf b = Unpooled.buffer(data.length + 6);
        b.writeBytes(new byte[] {(byte) 0xEE, (byte) 0xEE, (byte) 0xEE});
        b.writeBytes(data);
        b.writeBytes(new byte[] {(byte) 0xEE, (byte) 0xEE, (byte) 0xEE});
        b.readerIndex(3).writerIndex(3 + data.length);
        return b;
    }

    /** The first {@code length} bytes of {@code hex}: what a smaller allocation length would have returned. */
    static ByteBuf truncated(String hex, int length) {
        return buf(hex.replace(" ", "").substring(0, 2 * length));
    }
}
