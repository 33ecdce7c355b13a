package io.mpathnbd.iscsi.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.Capability;
import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.backend.FailureKind;
import io.mpathnbd.core.request.BlockFlags;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.iscsi.scsi.BlockLimits;
import io.mpathnbd.iscsi.scsi.Capacity16;
import io.mpathnbd.iscsi.scsi.Cdbs;
import io.mpathnbd.iscsi.scsi.LogicalBlockProvisioning;
import io.mpathnbd.iscsi.scsi.SenseData;
import io.mpathnbd.iscsi.scsi.StandardInquiry;
import io.mpathnbd.iscsi.session.ScsiTask;
import org.junit.jupiter.api.Test;

/** From attach data to capabilities and limits, and from block requests to CDBs (pure, no target needed). */
class BlockCommandsTest {
    private static final StandardInquiry DISK = new StandardInquiry(0, 0, 0, false, "IET     ", "VIRTUAL-DISK    ",
            "0001");

    private static Attachment unit(int blockSize, long blocks, boolean lbpme, BlockLimits limits,
            LogicalBlockProvisioning lbp) {
        return new Attachment(DISK, "beaf11", null, limits, lbp, new Capacity16(blocks - 1, blockSize, lbpme, false, 3),
                null);
    }

    private static BlockRequest req(BlockOp op, int flags, long offset, int length) {
        return new BlockRequest(op, flags, offset, length, 1, null, null);
    }

    @Test
    void capabilitiesAndSizes() {
        Attachment thin = unit(512, 2048, true, new BlockLimits(2048, 0, 0xffffffffL, 1, 0, 0), null);
        assertEquals(Capability.FLUSH | Capability.FUA | Capability.WRITE_ZEROES | Capability.TRIM,
                thin.capabilities());
        assertEquals(1 << 20, thin.maxPayload(32 << 20), "the target's maximum transfer length bounds it");
        assertEquals(512, thin.toInfo(1 << 20).minBlockSize());
        assertEquals(4096, thin.toInfo(1 << 20).preferredBlockSize(), "physical block exponent 3");
        assertEquals(2048L * 512, thin.toInfo(1 << 20).size());
        assertEquals("IET VIRTUAL-DISK 0001, serial beaf11, no identity", thin.description());
        assertEquals(Attachment.UNLIMITED, thin.unmapChunk());

        Attachment thick = unit(4096, 100, false, new BlockLimits(0, 0, 0, 0, 0, 0), null);
        assertFalse(Capability.has(thick.capabilities(), Capability.TRIM));
        assertEquals(32 << 20, thick.maxPayload(32 << 20));
        assertEquals(Attachment.DEFAULT_WRITE_SAME_BLOCKS, thick.writeSameChunk());

        Attachment wsOnly = unit(512, 100, true, null, new LogicalBlockProvisioning(false, true, false, true));
        assertTrue(Capability.has(wsOnly.capabilities(), Capability.TRIM));
        assertFalse(wsOnly.unmap());
        assertTrue(wsOnly.writeSameUnmap());
        assertTrue(wsOnly.unmappedReadsZero());
    }

    @Test
    void requestChecks() {
        BlockCommands c = new BlockCommands(unit(512, 2048, false, null, null));
        assertNull(c.check(req(BlockOp.READ, 0, 512, 4096)));
        Failure mis = c.check(req(BlockOp.WRITE, 0, 100, 512));
        assertEquals(FailureKind.TARGET, mis.kind());
        assertEquals(Errno.EINVAL, mis.errno());
        assertEquals("WRITE at 100 of 512 bytes is not aligned to the disk's 512-byte blocks", mis.message());
        assertNull(c.check(req(BlockOp.WRITE, 0, 2048L * 512, 512)), "beyond the end: the target's to refuse");
        assertEquals(Errno.ENOTSUP, c.check(req(BlockOp.TRIM, 0, 0, 512)).errno());
        assertEquals(Errno.ENOTSUP, c.check(req(BlockOp.WRITE_ZEROES, BlockFlags.FAST_ZERO, 0, 512)).errno());
        assertNull(c.check(req(BlockOp.FLUSH, 0, 0, 0)));
    }

    @Test
    void singleCommands() {
        BlockCommands c = new BlockCommands(unit(512, 2048, false, null, null));
        ScsiTask read = c.single(1, req(BlockOp.READ, 0, 1024, 4096));
        assertArrayEquals(Cdbs.read16(2, 8, false), read.cdb());
        assertEquals(4096, read.dataInLength());
        assertEquals(1, read.lun());
        ScsiTask write = c.single(1, req(BlockOp.WRITE, BlockFlags.FUA, 0, 512));
        assertArrayEquals(Cdbs.write16(0, 1, true), write.cdb());
        assertArrayEquals(Cdbs.synchronizeCache16(0, 0), c.single(1, req(BlockOp.FLUSH, 0, 0, 0)).cdb());
    }

    @Test
    void targetErrnoRefinements() {
        SenseData lbaOutOfRange = new SenseData(0x70, SenseData.ILLEGAL_REQUEST, 0x21, 0, 0, false);
        SenseData invalidOpcode = new SenseData(0x70, SenseData.ILLEGAL_REQUEST, 0x20, 0, 0, false);
        assertEquals(Errno.ENOSPC, IscsiBackendSession.targetErrno(BlockOp.WRITE, Errno.EINVAL, lbaOutOfRange));
        assertEquals(Errno.EINVAL, IscsiBackendSession.targetErrno(BlockOp.READ, Errno.EINVAL, lbaOutOfRange));
        assertEquals(Errno.ENOTSUP, IscsiBackendSession.targetErrno(BlockOp.WRITE_ZEROES, Errno.EINVAL,
                invalidOpcode));
        assertEquals(Errno.EINVAL, IscsiBackendSession.targetErrno(BlockOp.WRITE, Errno.EINVAL, invalidOpcode));
        assertEquals(Errno.EIO, IscsiBackendSession.targetErrno(BlockOp.READ, Errno.EIO, null));
    }
}
