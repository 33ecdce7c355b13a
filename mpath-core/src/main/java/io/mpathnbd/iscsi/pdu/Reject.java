package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;

/** Reject (0x3f): the target refused a PDU; the data segment holds that PDU's 48-byte header. */
public final class Reject extends TargetPdu {
    public static final int DATA_DIGEST_ERROR = 0x02;
    public static final int SNACK_REJECT = 0x03;
    public static final int PROTOCOL_ERROR = 0x04;
    public static final int COMMAND_NOT_SUPPORTED = 0x05;
    public static final int IMMEDIATE_COMMAND_REJECT = 0x06;
    public static final int TASK_IN_PROGRESS = 0x07;
    public static final int INVALID_DATA_ACK = 0x08;
    public static final int INVALID_PDU_FIELD = 0x09;
    public static final int LONG_OPERATION_REJECT = 0x0a;
    public static final int NEGOTIATION_RESET = 0x0b;
    public static final int WAITING_FOR_LOGOUT = 0x0c;

    private final int reason;
    private final int dataSN;

    public Reject(int reason, int statSN, int expCmdSN, int maxCmdSN, int dataSN, ByteBuf rejectedHeader) {
        super(statSN, expCmdSN, maxCmdSN, rejectedHeader);
        this.reason = reason & 0xff;
        this.dataSN = dataSN;
    }

    @Override
    public int opcode() {
        return Opcodes.REJECT;
    }

    public int reason() {
        return reason;
    }

    /** DataSN or R2TSN for data-related rejects. */
    public int dataSN() {
        return dataSN;
    }

    /** Opcode of the rejected PDU. */
    public int rejectedOpcode() {
        return data().getUnsignedByte(data().readerIndex()) & 0x3f;
    }

    /** ITT of the rejected PDU (bytes 16-19 of its header). */
    public int rejectedItt() {
        return data().getInt(data().readerIndex() + 16);
    }

    @Override
    protected void writeOwnFields(ByteBuf h) {
        h.setByte(1, Opcodes.FINAL);
        h.setByte(2, reason);
        h.setInt(16, Opcodes.RESERVED_TAG);
        h.setInt(36, dataSN);
    }

    static Reject read(ByteBuf h, ByteBuf data) {
        require(h.getUnsignedByte(1) == Opcodes.FINAL, "Reject flags " + hex(h.getUnsignedByte(1)));
        require(data.readableBytes() >= Opcodes.BHS_LENGTH,
                "Reject carrying " + data.readableBytes() + " bytes, the rejected 48-byte header is required");
        return new Reject(h.getUnsignedByte(2), readStatSN(h), readExpCmdSN(h), readMaxCmdSN(h), h.getInt(36), data);
    }

    @Override
    public Reject replace(ByteBuf content) {
        return new Reject(reason, statSN(), expCmdSN(), maxCmdSN(), dataSN, content);
    }

    @Override
    protected String describe() {
        if (data().readableBytes() < Opcodes.BHS_LENGTH) {
            return "reason=" + hex(reason);
        }
        return "reason=" + hex(reason) + " rejected=" + Opcodes.name(rejectedOpcode()) + " itt=" + hex(rejectedItt());
    }
}
