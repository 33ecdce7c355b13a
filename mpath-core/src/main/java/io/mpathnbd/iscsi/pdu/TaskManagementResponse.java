package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;

/** Task Management Function Response (0x22). No data. */
public final class TaskManagementResponse extends IscsiPdu {
    public static final int FUNCTION_COMPLETE = 0;
    public static final int TASK_DOES_NOT_EXIST = 1;
    public static final int LUN_DOES_NOT_EXIST = 2;
    public static final int TASK_STILL_ALLEGIANT = 3;
    public static final int REASSIGNMENT_NOT_SUPPORTED = 4;
    public static final int FUNCTION_NOT_SUPPORTED = 5;
    public static final int AUTHORIZATION_FAILED = 6;
    public static final int FUNCTION_REJECTED = 255;

    private final int response;
    private final int itt;
    private final int statSN;
    private final int expCmdSN;
    private final int maxCmdSN;

    public TaskManagementResponse(int response, int itt, int statSN, int expCmdSN, int maxCmdSN) {
        this(response, itt, statSN, expCmdSN, maxCmdSN, null);
    }

    private TaskManagementResponse(int response, int itt, int statSN, int expCmdSN, int maxCmdSN, ByteBuf data) {
        super(false, data);
        this.response = response & 0xff;
        this.itt = itt;
        this.statSN = statSN;
        this.expCmdSN = expCmdSN;
        this.maxCmdSN = maxCmdSN;
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

    public int itt() {
        return itt;
    }

    public int statSN() {
        return statSN;
    }

    public int expCmdSN() {
        return expCmdSN;
    }

    public int maxCmdSN() {
        return maxCmdSN;
    }

    @Override
    protected void writeFields(ByteBuf h) {
        h.setByte(1, Opcodes.FINAL);
        h.setByte(2, response);
        h.setInt(16, itt);
        h.setInt(24, statSN);
        h.setInt(28, expCmdSN);
        h.setInt(32, maxCmdSN);
    }

    static TaskManagementResponse read(ByteBuf h, ByteBuf data) {
        require(h.getUnsignedByte(1) == Opcodes.FINAL,
                "Task Management Response flags " + hex(h.getUnsignedByte(1)));
        require(data.readableBytes() == 0, "Task Management Response with a data segment");
        return new TaskManagementResponse(h.getUnsignedByte(2), h.getInt(16), h.getInt(24), h.getInt(28),
                h.getInt(32), data);
    }

    @Override
    public TaskManagementResponse replace(ByteBuf content) {
        return new TaskManagementResponse(response, itt, statSN, expCmdSN, maxCmdSN, content);
    }

    @Override
    protected String describe() {
        return "response=" + response + " itt=" + hex(itt);
    }
}
