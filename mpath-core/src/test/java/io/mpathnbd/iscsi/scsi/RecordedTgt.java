package io.mpathnbd.iscsi.scsi;

/**
 * Response bytes RECORDED from the real tgtd on this machine (Debian tgt, target iqn.2026-11.io.mpathnbd:rec,
 * LUN 1: 64 MiB file, 512-byte blocks; LUN 2: 32 MiB file, --blocksize 4096, thin_provisioning=1). Captured as
 * the Data-In / sense segments libiscsi received (strace -xx -e recvfrom of iscsi-inq -e 1 -c PAGE,
 * iscsi-readcapacity16 and iscsi-test-cu), copied here verbatim in hex.
 */
final class RecordedTgt {
    private RecordedTgt() {
    }

    /** iscsi-inq: standard INQUIRY, the complete 66-byte answer (ADDITIONAL LENGTH 0x3d). */
    static final String STANDARD_INQUIRY = "000005123d00000249455420202020205649525455414c2d4449534b2020202030303031"
            + "0000000000000000000000000000000000000000000004c0096003000000";
    /** VPD 0x80, LUN 1 (40 bytes, residual 24 of 64). */
    static final String UNIT_SERIAL = "00800024202020202020202020202020202020202020202020202020202020202020626561663131";
    /** VPD 0x83, LUN 1: T10 vendor id, NAA 3 (8 bytes), NAA 6 (16 bytes). */
    static final String DEVICE_ID_LUN1 = "00830048020100244945542020202020303030313030303100000000000000000000000000000000"
            + "000000000103000830000001000000010103001060000000000000000e00000000010001";
    /** The same page as libiscsi first got it with allocation length 64: cut inside the NAA 6 designator. */
    static final String DEVICE_ID_LUN1_ALLOC64 = "00830048020100244945542020202020303030313030303100000000000000000000"
            + "000000000000000000000103000830000001000000010103001060000000";
    /** VPD 0x83, LUN 2. */
    static final String DEVICE_ID_LUN2 = "00830048020100244945542020202020303030313030303200000000000000000000000000000000"
            + "000000000103000830000001000000020103001060000000000000000e00000000010002";
    /** VPD 0xB0, LUN 1 (no thin provisioning). */
    static final String BLOCK_LIMITS_LUN1 = "00b0003c0080000000000000000000000000000000000000000000000000000000000000"
            + "00000000000000000000000000000000000000000000000000000000";
    /** VPD 0xB0, LUN 2 (thin provisioning: unlimited UNMAP). */
    static final String BLOCK_LIMITS_LUN2 = "00b0003c00800000000000000000000000000000ffffffffffffffff0000000000000000"
            + "00000000000000000000000000000000000000000000000000000000";
    static final String PROVISIONING_LUN1 = "00b2000400000000";
    static final String PROVISIONING_LUN2 = "00b2000400e40200";
    /** READ CAPACITY(16), LUN 1: last LBA 131071, 512-byte blocks, 2^3 per physical block. */
    static final String CAPACITY_LUN1 = "000000000001ffff000002000003000000000000000000000000000000000000";
    /** READ CAPACITY(16), LUN 2: last LBA 8191, 4096-byte blocks, LBPME and LBPRZ. */
    static final String CAPACITY_LUN2 = "0000000000001fff000010000000c00000000000000000000000000000000000";

    /** Sense (SenseLength prefix removed): first command of every new session. */
    static final String SENSE_UA_POWER_ON = "700006000000000a00000000290000000000";
    /** iscsi-test-cu ALL.Read16.BeyondEol. */
    static final String SENSE_LBA_OUT_OF_RANGE = "700005000000000a00000000210000000000";
    /** iscsi-test-cu ALL.Inquiry.EVPD (unsupported VPD page). */
    static final String SENSE_INVALID_FIELD_IN_CDB = "700005000000000a00000000240000000000";
    /** iscsi-test-cu ALL.ReadDefectData10 (opcode tgt does not implement). */
    static final String SENSE_INVALID_OPCODE = "700005000000000a00000000200000000000";
}
