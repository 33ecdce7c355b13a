package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;

/**
 * SCSI Data-Out (0x05): one piece of write data at {@code bufferOffset}, numbered by DataSN within its sequence
 * (restarting at 0 for each R2T and for the unsolicited burst); F ends the sequence.
 */
public final class DataOut extends IscsiPdu {
    private final boolean finalPdu;
    private final long lun;
    private final int itt;
    private final int ttt;
    private final int expStatSN;
    private final int dataSN;
    private final int bufferOffset;

    public DataOut(boolean finalPdu, long lun, int itt, int ttt, int expStatSN, int dataSN, int bufferOffset,
            ByteBuf data) {
        super(false, data);
        this.finalPdu = finalPdu;
        this.lun = lun;
        this.itt = itt;
        this.ttt = ttt;
        this.expStatSN = expStatSN;
        this.dataSN = dataSN;
        this.bufferOffset = bufferOffset;
    }

    @Override
    public int opcode() {
        return Opcodes.DATA_OUT;
    }

    public boolean isFinal() {
        return finalPdu;
    }

    public long lun() {
        return lun;
    }

    public int itt() {
        return itt;
    }

    /** The R2T's tag, or the reserved tag for unsolicited data. */
    public int ttt() {
        return ttt;
    }

    public int expStatSN() {
        return expStatSN;
    }

    public int dataSN() {
        return dataSN;
    }

    /** Unsigned 32-bit offset of this data within the command's buffer. */
    public int bufferOffset() {
        return bufferOffset;
    }

    @Override
    protected void writeFields(ByteBuf h) {
        h.setByte(1, finalPdu ? Opcodes.FINAL : 0);
        h.setLong(8, lun);
        h.setInt(16, itt);
        h.setInt(20, ttt);
        h.setInt(28, expStatSN);
        h.setInt(36, dataSN);
        h.setInt(40, bufferOffset);
    }

    static DataOut read(ByteBuf h, boolean immediate, ByteBuf data) {
        int flags = h.getUnsignedByte(1);
        require(!immediate, "Data-Out with the immediate bit");
        require((flags & 0x7f) == 0, "Data-Out with reserved flag bits " + hex(flags));
        return new DataOut((flags & Opcodes.FINAL) != 0, h.getLong(8), h.getInt(16), h.getInt(20), h.getInt(28),
                h.getInt(36), h.getInt(40), data);
    }

    @Override
    public DataOut replace(ByteBuf content) {
        return new DataOut(finalPdu, lun, itt, ttt, expStatSN, dataSN, bufferOffset, content);
    }

    @Override
    protected String describe() {
        return (finalPdu ? "F " : "") + "itt=" + hex(itt) + " ttt=" + hex(ttt) + " dataSN="
                + Integer.toUnsignedString(dataSN) + " offset=" + Integer.toUnsignedString(bufferOffset);
    }
}
