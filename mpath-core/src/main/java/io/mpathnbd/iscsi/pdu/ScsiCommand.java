package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * SCSI Command (0x01): a CDB of at most 16 bytes (no extended-CDB AHS), the transfer direction, the expected data
 * transfer length and any immediate data. F means no unsolicited Data-Out follows.
 */
public final class ScsiCommand extends CommandSequencedPdu {
    public static final int FLAG_READ = 0x40;
    public static final int FLAG_WRITE = 0x20;
    public static final int ATTR_UNTAGGED = 0;
    public static final int ATTR_SIMPLE = 1;
    public static final int ATTR_ORDERED = 2;
    public static final int ATTR_HEAD_OF_QUEUE = 3;
    public static final int ATTR_ACA = 4;
    public static final int CDB_LENGTH = 16;

    private final boolean finalPdu;
    private final boolean read;
    private final boolean write;
    private final int attribute;
    private final long lun;
    private final int expectedDataTransferLength;
    private final byte[] cdb;

    /** {@code cdb} of 1 to 16 bytes; shorter ones are padded with zeroes on the wire. */
    public ScsiCommand(boolean immediate, boolean finalPdu, boolean read, boolean write, int attribute, long lun,
            int itt, int expectedDataTransferLength, int cmdSN, int expStatSN, byte[] cdb, ByteBuf data) {
        super(immediate, itt, cmdSN, expStatSN, data);
        if (cdb.length == 0 || cdb.length > CDB_LENGTH) {
            throw new IllegalArgumentException("CDB of " + cdb.length + " bytes, 1 to 16 are supported");
        }
        if ((attribute & ~7) != 0) {
            throw new IllegalArgumentException("task attribute " + attribute);
        }
        this.finalPdu = finalPdu;
        this.read = read;
        this.write = write;
        this.attribute = attribute;
        this.lun = lun;
        this.expectedDataTransferLength = expectedDataTransferLength;
        this.cdb = cdb;
    }

    @Override
    public int opcode() {
        return Opcodes.SCSI_COMMAND;
    }

    public boolean isFinal() {
        return finalPdu;
    }

    public boolean isRead() {
        return read;
    }

    public boolean isWrite() {
        return write;
    }

    public int attribute() {
        return attribute;
    }

    public long lun() {
        return lun;
    }

    /** Unsigned 32-bit. */
    public int expectedDataTransferLength() {
        return expectedDataTransferLength;
    }

    /** The CDB as given (a decoded command always has 16 bytes). Not copied: do not modify. */
    public byte[] cdb() {
        return cdb;
    }

    @Override
    protected void writeOwnFields(ByteBuf h) {
        h.setByte(1, (finalPdu ? Opcodes.FINAL : 0) | (read ? FLAG_READ : 0) | (write ? FLAG_WRITE : 0) | attribute);
        h.setLong(8, lun);
        h.setInt(20, expectedDataTransferLength);
        h.setBytes(32, cdb);
    }

    static ScsiCommand read(ByteBuf h, boolean immediate, ByteBuf data) {
        int flags = h.getUnsignedByte(1);
        require((flags & 0x18) == 0, "SCSI Command with reserved flag bits " + hex(flags));
        require(readItt(h) != Opcodes.RESERVED_TAG, "SCSI Command with the reserved ITT");
        byte[] cdb = new byte[CDB_LENGTH];
        h.getBytes(32, cdb);
        return new ScsiCommand(immediate, (flags & Opcodes.FINAL) != 0, (flags & FLAG_READ) != 0,
                (flags & FLAG_WRITE) != 0, flags & 7, h.getLong(8), readItt(h), h.getInt(20), readCmdSN(h),
                readExpStatSN(h), cdb, data);
    }

    @Override
    public ScsiCommand replace(ByteBuf content) {
        return new ScsiCommand(immediate(), finalPdu, read, write, attribute, lun, itt(), expectedDataTransferLength,
                cmdSN(), expStatSN(), cdb, content);
    }

    @Override
    protected String describe() {
        return "op=" + hex(cdb[0] & 0xff) + (read ? " R" : "") + (write ? " W" : "") + (finalPdu ? " F" : "")
                + " itt=" + hex(itt()) + " edtl=" + Integer.toUnsignedString(expectedDataTransferLength) + " cmdSN="
                + Integer.toUnsignedString(cmdSN()) + " cdb=" + Arrays.toString(cdb);
    }
}
