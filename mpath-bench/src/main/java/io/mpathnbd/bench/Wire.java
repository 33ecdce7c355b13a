package io.mpathnbd.bench;

import io.mpathnbd.nbd.protocol.NbdConstants;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;

/** Bytes as a socket would deliver them, and draining of what a handler produced. */
final class Wire {
    private Wire() {
    }

    /** Pooled direct buffer, the kind a socket read delivers. */
    static ByteBuf direct(int capacity) {
        return ByteBufAllocator.DEFAULT.directBuffer(capacity);
    }

    static void requestHeader(ByteBuf b, int type, long cookie, long offset, int length) {
        b.writeInt(NbdConstants.REQUEST_MAGIC).writeShort(0).writeShort(type).writeLong(cookie).writeLong(offset)
                .writeInt(length);
    }

    static void simpleReplyHeader(ByteBuf b, long cookie) {
        b.writeInt(NbdConstants.SIMPLE_REPLY_MAGIC).writeInt(0).writeLong(cookie);
    }

    static void fill(ByteBuf b, int n) {
        for (int i = 0; i < n; i++) {
            b.writeByte(i * 31);
        }
    }

    /** Releases everything the channel passed on inbound; returns how many messages there were. */
    static int drainInbound(EmbeddedChannel ch) {
        int n = 0;
        Object m;
        while ((m = ch.readInbound()) != null) {
            ReferenceCountUtil.release(m);
            n++;
        }
        return n;
    }

    /** Releases everything the channel wrote; returns the number of bytes. */
    static long drainOutbound(EmbeddedChannel ch) {
        long bytes = 0;
        Object m;
        while ((m = ch.readOutbound()) != null) {
            if (m instanceof ByteBuf) {
                bytes += ((ByteBuf) m).readableBytes();
            }
            ReferenceCountUtil.release(m);
        }
        return bytes;
    }
}
