package io.mpathnbd.iscsi.scsi;

import io.netty.buffer.ByteBuf;

/** VPD page 0x80, Unit Serial Number: an ASCII string, padding trimmed. */
public record UnitSerial(String serial) {

    public static UnitSerial parse(ByteBuf data) {
        int end = Vpd.open(data, Cdbs.VPD_UNIT_SERIAL, Vpd.HEADER, "unit serial number VPD page");
        return new UnitSerial(Bytes.ascii(data, Vpd.HEADER, end));
    }
}
