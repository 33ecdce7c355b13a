package io.mpathnbd.iscsi.scsi;

import io.netty.buffer.ByteBuf;

/**
 * VPD page 0xB2 (SBC-3 6.6.4): which deallocation commands the target takes and whether deallocated blocks read
 * back as zeroes.
 */
public record LogicalBlockProvisioning(boolean lbpu, boolean lbpws, boolean lbpws10, boolean lbprz) {

    public static LogicalBlockProvisioning parse(ByteBuf data) {
        Vpd.open(data, Cdbs.VPD_LOGICAL_BLOCK_PROVISIONING, 6, "logical block provisioning VPD page");
        int flags = Bytes.u8(data, 5);
        // LBPRZ is one bit (2) in SBC-3 and a 3-bit field (4..2) in SBC-4; nonzero means "reads zeroes" either way.
        return new LogicalBlockProvisioning((flags & 0x80) != 0, (flags & 0x40) != 0, (flags & 0x20) != 0,
                (flags & 0x1c) != 0);
    }
}
