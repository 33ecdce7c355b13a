package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;

/** Task Management Function Response (0x22). No data. */
public final class TaskManagementResponse extends TaggedTargetPdu {
    public static final int FUNCTION_COMPLETE = 0;
    public static final int TASK_DOES_NOT_EXIST = 1;
    public static final int LUN_DOES_NOT_EXIST = 2;
    public static final int TASK_STILL_ALLEGIANT = 3;
    public static final int REASSIGNMENT_NOT_SUPPORTED = 4;
    public static final int FUNCTION_NOT_SUPPORTED = 5;
    public static final int AUTHORIZATION_FAILED = 6;
    public static final int FUNCTION_REJECTED = 255;

    private final int response;

    public TaskManagementResponse(int response, int itt, int statSN, int expCmdSN, int maxCmdSN) {
        this(response, itt, statSN, expCmdSN, maxCmdSN, null);
    }

    private TaskManagementResponse(int response, int itt, int statSN, int expCmdSN, int maxCmdSN, ByteBuf data) {
        super(itt, statSN, expCmdSN, maxCmdSN, data);
        this.response = response & 0xff;
    }

    @Override
    public int opcode() {
        return Opcodes.TASK_MANAGEMENT_RESPONSE;
    }

    @Override
    public boolean allowsData() {
        return false;
    }

    public int response() {
        return response;
    }

    @Override
    protected void writeOwnFields(ByteBuf h) {
        h.setByte(1, Opcodes.FINAL);
        h.setByte(2, response);
    }

    static TaskManagementResponse read(ByteBuf h, ByteBuf data) {
        require(h.getUnsignedByte(1) == Opcodes.FINAL,
                "Task Management Response flags " + hex(h.getUnsignedByte(1)));
        require(data.readableBytes() == 0, "Task Management Response with a data segment");
        return new TaskManagementResponse(h.getUnsignedByte(2), readItt(h), readStatSN(h), readExpCmdSN(h),
                readMaxCmdSN(h), data);
    }

    @Override
    public TaskManagementResponse replace(ByteBuf content) {
        return new TaskManagementResponse(response, itt(), statSN(), expCmdSN(), maxCmdSN(), content);
    }

    @Override
    protected String describe() {
        return "response=" + response + " itt=" + hex(itt());
    }
}
