package io.mpathnbd.nbd.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import io.netty.buffer.Unpooled;

/** A handshake option request (client to server): IHAVEOPT, u32 option, u32 length, data. */
public final class NbdOption extends DefaultByteBufHolder {
    private final int option;
    private final boolean tooBig;
    private final long declaredLength;

    public NbdOption(int option, ByteBuf data) {
        super(data == null ? Unpooled.EMPTY_BUFFER : data);
        this.option = option;
        this.tooBig = false;
        this.declaredLength = content().readableBytes();
    }

    private NbdOption(int option, long declaredLength) {
        super(Unpooled.EMPTY_BUFFER);
        this.option = option;
        this.tooBig = true;
        this.declaredLength = declaredLength;
    }

    /**
     * The marker for an option whose data exceeded the decoder's limit: the data was skipped unread, the handler
     * answers NBD_REP_ERR_TOO_BIG.
     */
    public static NbdOption tooBig(int option, long declaredLength) {
        return new NbdOption(option, declaredLength);
    }

    /** The option's data was longer than allowed and was skipped; {@link #data()} is empty. */
    public boolean isTooBig() {
        return tooBig;
    }

    /** The length field of the option on the wire (u32, so never negative). */
    public long declaredLength() {
        return declaredLength;
    }

    public int option() {
        return option;
    }

    public ByteBuf data() {
        return content();
    }

    @Override
    public NbdOption replace(ByteBuf content) {
        if (tooBig) {
            content.release();
            return new NbdOption(option, declaredLength);
        }
        return new NbdOption(option, content);
    }

    @Override
    public String toString() {
        return "NbdOption[" + NbdConstants.optionName(option) + " len=" + declaredLength + (tooBig ? " too big" : "")
                + "]";
    }
}
