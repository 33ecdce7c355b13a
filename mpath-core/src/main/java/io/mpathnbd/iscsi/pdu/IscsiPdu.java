package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import io.netty.buffer.Unpooled;

/**
 * One iSCSI PDU: the fields of its 48-byte basic header segment plus its data segment (without padding or digest).
 * Decoded data is a retained slice of the receive buffer; data handed to the encoder is passed on retained, never
 * copied. Release the PDU when done, as any ByteBufHolder. Additional header segments are not modelled: the subset
 * used here (no bidirectional commands, CDBs of at most 16 bytes) never sends one, and received ones are skipped.
 */
public abstract class IscsiPdu extends DefaultByteBufHolder {
    private final boolean immediate;

    protected IscsiPdu(boolean immediate, ByteBuf data) {
        super(data == null ? Unpooled.EMPTY_BUFFER : data);
        this.immediate = immediate;
    }

    /** The opcode (low six bits of byte 0). */
    public abstract int opcode();

    /** Immediate delivery bit (initiator PDUs only; always false for target PDUs). */
    public final boolean immediate() {
        return immediate;
    }

    /** The data segment without padding (may be empty). */
    public final ByteBuf data() {
        return content();
    }

    /** False for the types whose data segment must be empty; the encoder refuses data on them. */
    public boolean allowsData() {
        return true;
    }

    /** Whether this PDU travels initiator to target. */
    public final boolean fromInitiator() {
        return Opcodes.isInitiatorOpcode(opcode());
    }

    /**
     * Writes the type-specific header fields into {@code bhs}, which holds 48 zero bytes at index 0: byte 1 to 3 and
     * 8 to 47. Byte 0 and the segment lengths (4 to 7) are the codec's.
     */
    protected abstract void writeFields(ByteBuf bhs);

    /**
     * Writes the complete basic header segment (48 bytes) into {@code bhs}, which must be empty: the header always
     * starts at index 0 of its own buffer, so the field writers can use absolute offsets without a slice.
     */
    public final void writeBhs(ByteBuf bhs) {
        if (bhs.writerIndex() != 0) {
            throw new IllegalArgumentException("the BHS starts its own buffer, writer index is " + bhs.writerIndex());
        }
        bhs.writeZero(Opcodes.BHS_LENGTH);
        bhs.setByte(0, opcode() | (immediate ? Opcodes.IMMEDIATE : 0));
        bhs.setMedium(5, data().readableBytes());
        writeFields(bhs);
    }

    /** Throws the protocol exception unless {@code condition} holds (decoding checks). */
    static void require(boolean condition, String violation) {
        if (!condition) {
            throw new IscsiProtocolException(violation);
        }
    }

    protected String describe() {
        return "";
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + (immediate ? "I " : "") + describe() + " data="
                + data().readableBytes() + "]";
    }

    static String hex(int value) {
        return "0x" + Integer.toHexString(value);
    }
}
