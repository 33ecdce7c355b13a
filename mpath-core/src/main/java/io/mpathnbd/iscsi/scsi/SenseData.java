package io.mpathnbd.iscsi.scsi;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * Sense data in fixed (0x70 current, 0x71 deferred) or descriptor (0x72, 0x73) format (SPC-4 4.5). Parsing is as
 * lenient as Linux's: the sense key must be present; ASC, ASCQ and INFORMATION read as 0 / not valid when the
 * sense was cut short.
 */
public record SenseData(int responseCode, int key, int asc, int ascq, long information, boolean informationValid) {

    public static final int NO_SENSE = 0x0;
    public static final int RECOVERED_ERROR = 0x1;
    public static final int NOT_READY = 0x2;
    public static final int MEDIUM_ERROR = 0x3;
    public static final int HARDWARE_ERROR = 0x4;
    public static final int ILLEGAL_REQUEST = 0x5;
    public static final int UNIT_ATTENTION = 0x6;
    public static final int DATA_PROTECT = 0x7;
    public static final int BLANK_CHECK = 0x8;
    public static final int VENDOR_SPECIFIC = 0x9;
    public static final int COPY_ABORTED = 0xA;
    public static final int ABORTED_COMMAND = 0xB;
    public static final int VOLUME_OVERFLOW = 0xD;
    public static final int MISCOMPARE = 0xE;
    public static final int COMPLETED = 0xF;

    public static final int FIXED_CURRENT = 0x70;
    public static final int FIXED_DEFERRED = 0x71;
    public static final int DESCRIPTOR_CURRENT = 0x72;
    public static final int DESCRIPTOR_DEFERRED = 0x73;

    private static final String[] KEY_NAMES = {"NO SENSE", "RECOVERED ERROR", "NOT READY", "MEDIUM ERROR",
        "HARDWARE ERROR", "ILLEGAL REQUEST", "UNIT ATTENTION", "DATA PROTECT", "BLANK CHECK", "VENDOR SPECIFIC",
        "COPY ABORTED", "ABORTED COMMAND", "KEY 0xC", "VOLUME OVERFLOW", "MISCOMPARE", "COMPLETED"};

    private static final int FIXED_HEADER = 8;
    private static final int DESCRIPTOR_HEADER = 8;
    private static final int INFORMATION_DESCRIPTOR = 0x00;

    public static SenseData parse(byte[] sense) {
        return parse(Unpooled.wrappedBuffer(sense));
    }

    public static SenseData parse(ByteBuf data) {
        Bytes.require(data, 1, "sense data");
        int code = Bytes.u8(data, 0) & 0x7f;
        switch (code) {
            case FIXED_CURRENT:
            case FIXED_DEFERRED:
                return fixed(data, code);
            case DESCRIPTOR_CURRENT:
            case DESCRIPTOR_DEFERRED:
                return descriptor(data, code);
            default:
                throw new ScsiFormatException(String.format("sense data: response code 0x%02x", code));
        }
    }

    private static SenseData fixed(ByteBuf data, int code) {
        Bytes.require(data, 3, "fixed-format sense data");
        int end = data.readableBytes() >= FIXED_HEADER ? Bytes.usable(data, FIXED_HEADER + Bytes.u8(data, 7))
                : data.readableBytes();
        boolean valid = (Bytes.u8(data, 0) & 0x80) != 0 && end >= 7;
        return new SenseData(code, Bytes.u8(data, 2) & 0x0f, end > 12 ? Bytes.u8(data, 12) : 0,
                end > 13 ? Bytes.u8(data, 13) : 0, valid ? Bytes.u32(data, 3) : 0, valid);
    }

    private static SenseData descriptor(ByteBuf data, int code) {
        Bytes.require(data, 2, "descriptor-format sense data");
        int readable = data.readableBytes();
        int end = readable >= DESCRIPTOR_HEADER ? Bytes.usable(data, DESCRIPTOR_HEADER + Bytes.u8(data, 7)) : readable;
        long information = 0;
        boolean valid = false;
        int at = DESCRIPTOR_HEADER;
        while (at + 2 <= end) {
            int length = Bytes.u8(data, at + 1);
            if (Bytes.u8(data, at) == INFORMATION_DESCRIPTOR && length >= 0x0a && at + 12 <= end) {
                valid = (Bytes.u8(data, at + 2) & 0x80) != 0;
                information = valid ? Bytes.s64(data, at + 4) : 0;
                break;
            }
            at += 2 + length;
        }
        return new SenseData(code, Bytes.u8(data, 1) & 0x0f, readable > 2 ? Bytes.u8(data, 2) : 0,
                readable > 3 ? Bytes.u8(data, 3) : 0, information, valid);
    }

    public static String keyName(int key) {
        return key >= 0 && key < KEY_NAMES.length ? KEY_NAMES[key] : "KEY " + key;
    }

    /** Deferred sense reports an error of an earlier command (e.g. a cached write that failed later). */
    public boolean deferred() {
        return responseCode == FIXED_DEFERRED || responseCode == DESCRIPTOR_DEFERRED;
    }

    public boolean is(int key, int asc, int ascq) {
        return this.key == key && this.asc == asc && this.ascq == ascq;
    }

    @Override
    public String toString() {
        return String.format("%s %02X/%02X", keyName(key), asc, ascq);
    }
}
