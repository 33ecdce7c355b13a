package io.mpathnbd.iscsi.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.AbstractReferenceCounted;
import io.netty.util.ReferenceCounted;

/**
 * A SCSI status from the target with the bytes the command read. {@link #data()} is the Data-In payload (a retained
 * slice of the receive buffer, or a composite of several; never a copy), owned by this result: the receiver of the
 * result releases it with {@link #release()}.
 */
public final class ScsiResult extends AbstractReferenceCounted {
    private final int status;
    private final ByteBuf data;
    private final byte[] sense;
    private final int residualCount;
    private final boolean underflow;
    private final boolean overflow;

    /** Takes ownership of {@code data} (null means none). */
    public ScsiResult(int status, ByteBuf data, byte[] sense, int residualCount, boolean underflow,
            boolean overflow) {
        this.status = status;
        this.data = data == null ? Unpooled.EMPTY_BUFFER : data;
        this.sense = sense;
        this.residualCount = residualCount;
        this.underflow = underflow;
        this.overflow = overflow;
    }

    /** The SCSI status byte (0 GOOD, 2 CHECK CONDITION, ...). */
    public int status() {
        return status;
    }

    /** The bytes read (empty for commands without Data-In); valid until this result is released. */
    public ByteBuf data() {
        return data;
    }

    /** The sense data, or null when the target sent none. */
    public byte[] sense() {
        return sense;
    }

    /** Unsigned; meaningful with {@link #underflow()} or {@link #overflow()}. */
    public int residualCount() {
        return residualCount;
    }

    /** The command transferred fewer bytes than expected, by {@link #residualCount()}. */
    public boolean underflow() {
        return underflow;
    }

    /** The command wanted to transfer more bytes than expected, by {@link #residualCount()}. */
    public boolean overflow() {
        return overflow;
    }

    @Override
    protected void deallocate() {
        data.release();
    }

    @Override
    public ReferenceCounted touch(Object hint) {
        data.touch(hint);
        return this;
    }

    @Override
    public String toString() {
        return "ScsiResult[status=0x" + Integer.toHexString(status) + " data=" + data.readableBytes()
                + (sense == null ? "" : " sense=" + sense.length + "B")
                + (underflow ? " underflow=" + Integer.toUnsignedString(residualCount) : "")
                + (overflow ? " overflow=" + Integer.toUnsignedString(residualCount) : "") + "]";
    }
}
