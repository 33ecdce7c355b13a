package io.mpathnbd.iscsi.pdu;

/** The RFC 7143 opcodes (low six bits of BHS byte 0) and the flag bits shared by several PDUs. */
public final class Opcodes {
    public static final int NOP_OUT = 0x00;
    public static final int SCSI_COMMAND = 0x01;
    public static final int TASK_MANAGEMENT_REQUEST = 0x02;
    public static final int LOGIN_REQUEST = 0x03;
    public static final int TEXT_REQUEST = 0x04;
    public static final int DATA_OUT = 0x05;
    public static final int LOGOUT_REQUEST = 0x06;

    public static final int NOP_IN = 0x20;
    public static final int SCSI_RESPONSE = 0x21;
    public static final int TASK_MANAGEMENT_RESPONSE = 0x22;
    public static final int LOGIN_RESPONSE = 0x23;
    public static final int TEXT_RESPONSE = 0x24;
    public static final int DATA_IN = 0x25;
    public static final int LOGOUT_RESPONSE = 0x26;
    public static final int R2T = 0x31;
    public static final int ASYNC_MESSAGE = 0x32;
    public static final int REJECT = 0x3f;

    /** Immediate delivery, on byte 0 of initiator PDUs. */
    public static final int IMMEDIATE = 0x40;
    /** Final (F) bit of byte 1; Transit (T) for login. */
    public static final int FINAL = 0x80;
    /** Continue (C) bit of byte 1 in Login and Text PDUs. */
    public static final int CONTINUE = 0x40;

    /** The reserved tag value: "no task" for ITT, "no transfer" for TTT. */
    public static final int RESERVED_TAG = 0xffffffff;

    public static final int BHS_LENGTH = 48;
    /** Largest value the 24-bit DataSegmentLength field can hold. */
    public static final int MAX_DATA_SEGMENT_LENGTH = 0xffffff;

    private Opcodes() {
    }

    /** True for the opcodes an initiator sends (SNACK is not part of the error recovery level 0 subset). */
    public static boolean isInitiatorOpcode(int opcode) {
        return opcode >= NOP_OUT && opcode <= LOGOUT_REQUEST;
    }

    /** True for the opcodes a target sends. */
    public static boolean isTargetOpcode(int opcode) {
        return (opcode >= NOP_IN && opcode <= LOGOUT_RESPONSE) || opcode == R2T || opcode == ASYNC_MESSAGE
                || opcode == REJECT;
    }

    public static String name(int opcode) {
        switch (opcode) {
            case NOP_OUT: return "NOP-Out";
            case SCSI_COMMAND: return "SCSI Command";
            case TASK_MANAGEMENT_REQUEST: return "Task Management Request";
            case LOGIN_REQUEST: return "Login Request";
            case TEXT_REQUEST: return "Text Request";
            case DATA_OUT: return "SCSI Data-Out";
            case LOGOUT_REQUEST: return "Logout Request";
            case NOP_IN: return "NOP-In";
            case SCSI_RESPONSE: return "SCSI Response";
            case TASK_MANAGEMENT_RESPONSE: return "Task Management Response";
            case LOGIN_RESPONSE: return "Login Response";
            case TEXT_RESPONSE: return "Text Response";
            case DATA_IN: return "SCSI Data-In";
            case LOGOUT_RESPONSE: return "Logout Response";
            case R2T: return "R2T";
            case ASYNC_MESSAGE: return "Asynchronous Message";
            case REJECT: return "Reject";
            default: return "opcode 0x" + Integer.toHexString(opcode);
        }
    }
}
