package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;

/** Task Management Function Request (0x02): ABORT TASK, LUN RESET and the like. Never carries data. */
public final class TaskManagementRequest extends CommandSequencedPdu {
    public static final int ABORT_TASK = 1;
    public static final int ABORT_TASK_SET = 2;
    public static final int CLEAR_ACA = 3;
    public static final int CLEAR_TASK_SET = 4;
    public static final int LOGICAL_UNIT_RESET = 5;
    public static final int TARGET_WARM_RESET = 6;
    public static final int TARGET_COLD_RESET = 7;

    private final int function;
    private final long lun;
    private final int referencedTaskTag;
    private final int refCmdSN;
    private final int expDataSN;

    public TaskManagementRequest(boolean immediate, int function, long lun, int itt, int referencedTaskTag, int cmdSN,
            int expStatSN, int refCmdSN, int expDataSN) {
        this(immediate, function, lun, itt, referencedTaskTag, cmdSN, expStatSN, refCmdSN, expDataSN, null);
    }

    /** With a data segment only as {@link #replace} needs it; the encoder refuses a non-empty one. */
    private TaskManagementRequest(boolean immediate, int function, long lun, int itt, int referencedTaskTag,
            int cmdSN, int expStatSN, int refCmdSN, int expDataSN, ByteBuf data) {
        super(immediate, itt, cmdSN, expStatSN, data);
        if (function < 1 || function > 0x7f) {
            throw new IllegalArgumentException("task management function " + function);
        }
        this.function = function;
        this.lun = lun;
        this.referencedTaskTag = referencedTaskTag;
        this.refCmdSN = refCmdSN;
        this.expDataSN = expDataSN;
    }

    @Override
    public int opcode() {
        return Opcodes.TASK_MANAGEMENT_REQUEST;
    }

    @Override
    public boolean allowsData() {
        return false;
    }

    public int function() {
        return function;
    }

    public long lun() {
        return lun;
    }

    /** ITT of the task to abort (ABORT TASK), otherwise the reserved tag. */
    public int referencedTaskTag() {
        return referencedTaskTag;
    }

    public int refCmdSN() {
        return refCmdSN;
    }

    public int expDataSN() {
        return expDataSN;
    }

    @Override
    protected void writeOwnFields(ByteBuf h) {
        h.setByte(1, Opcodes.FINAL | function);
        h.setLong(8, lun);
        h.setInt(20, referencedTaskTag);
        h.setInt(32, refCmdSN);
        h.setInt(36, expDataSN);
    }

    static TaskManagementRequest read(ByteBuf h, boolean immediate, ByteBuf data) {
        int b1 = h.getUnsignedByte(1);
        require((b1 & Opcodes.FINAL) != 0, "Task Management Request without the F bit");
        require(data.readableBytes() == 0, "Task Management Request with a data segment");
        require((b1 & 0x7f) != 0, "Task Management Request with function 0");
        return new TaskManagementRequest(immediate, b1 & 0x7f, h.getLong(8), readItt(h), h.getInt(20),
                readCmdSN(h), readExpStatSN(h), h.getInt(32), h.getInt(36));
    }

    @Override
    public TaskManagementRequest replace(ByteBuf content) {
        return new TaskManagementRequest(immediate(), function, lun, itt(), referencedTaskTag, cmdSN(),
                expStatSN(), refCmdSN, expDataSN, content);
    }

    @Override
    protected String describe() {
        return "function=" + function + " itt=" + hex(itt()) + " ref=" + hex(referencedTaskTag);
    }
}
