package io.mpathnbd.iscsi.backend;

import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.core.request.BlockFlags;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.iscsi.scsi.Cdbs;
import io.mpathnbd.iscsi.session.ScsiTask;

/**
 * Block requests as SCSI commands for one attached unit: READ(16), WRITE(16) with FUA, SYNCHRONIZE CACHE(16) for
 * FLUSH; TRIM and WRITE_ZEROES as ranges split into commands the unit's limits allow (see {@link RangeCommand}).
 */
final class BlockCommands {
    private final Attachment unit;
    private final int blockSize;

    BlockCommands(Attachment unit) {
        this.unit = unit;
        this.blockSize = unit.blockSize();
    }

    Attachment unit() {
        return unit;
    }

    int blockSize() {
        return blockSize;
    }

    /**
     * A target error for what cannot become a command (misaligned, unsupported), else null. Ranges beyond the end
     * are the target's to refuse (ILLEGAL REQUEST 21/00: EINVAL for reads, ENOSPC for writes).
     */
    Failure check(BlockRequest r) {
        BlockOp op = r.op();
        if (op == BlockOp.FLUSH) {
            return null;
        }
        if (r.offset() % blockSize != 0 || r.length() % blockSize != 0) {
            return Failure.target(Errno.EINVAL, op + " at " + r.offset() + " of " + r.length() + " bytes is not aligned"
                    + " to the disk's " + blockSize + "-byte blocks");
        }
        if (op == BlockOp.WRITE_ZEROES && r.hasFlag(BlockFlags.FAST_ZERO)) {
            return Failure.target(Errno.ENOTSUP, "fast zeroing is not offered by this iSCSI path");
        }
        if (op == BlockOp.TRIM && !unit.unmap() && !unit.writeSameUnmap()) {
            return Failure.target(Errno.ENOTSUP, "the unit does not offer UNMAP");
        }
        return null;
    }

    /** READ, WRITE or FLUSH as one command; the WRITE payload is referenced, not consumed. */
    ScsiTask single(int lun, BlockRequest r) {
        long lba = r.offset() / blockSize;
        int blocks = r.length() / blockSize;
        switch (r.op()) {
            case READ:
                return new ScsiTask(lun, Cdbs.read16(lba, blocks, false), null, r.length());
            case WRITE:
                return new ScsiTask(lun, Cdbs.write16(lba, blocks, r.hasFlag(BlockFlags.FUA)), r.payload(), 0);
            case FLUSH:
                return new ScsiTask(lun, Cdbs.synchronizeCache16(0, 0), null, 0);
            default:
                throw new IllegalArgumentException("not a single-command operation: " + r.op());
        }
    }
}
