package io.mpathnbd.iscsi.backend;

import io.mpathnbd.core.backend.BackendCallback;
import io.mpathnbd.core.request.BlockFlags;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.BlockRequest;
import io.mpathnbd.iscsi.scsi.Cdbs;
import io.mpathnbd.iscsi.scsi.ScsiClassifier;
import io.mpathnbd.iscsi.scsi.ScsiClassifier.Action;
import io.mpathnbd.iscsi.scsi.ScsiClassifier.Classification;
import io.mpathnbd.iscsi.scsi.ScsiStatus;
import io.mpathnbd.iscsi.scsi.SenseData;
import io.mpathnbd.iscsi.scsi.UnmapParameters;
import io.mpathnbd.iscsi.session.ScsiCallback;
import io.mpathnbd.iscsi.session.ScsiResult;
import io.mpathnbd.iscsi.session.ScsiTask;
import io.mpathnbd.iscsi.session.TaskFailure;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;

/**
 * TRIM or WRITE_ZEROES over a range, as a sequence of commands within the unit's limits: UNMAP (or WRITE SAME(16)
 * with UNMAP) for TRIM; WRITE SAME(16) of a zero block for WRITE_ZEROES, unmapping too when the client allows holes
 * and unmapped blocks read as zeroes. FUA becomes a SYNCHRONIZE CACHE of the range at the end (WRITE SAME has no FUA
 * bit). The first failure ends the request; one command is outstanding at a time.
 */
final class RangeCommand implements ScsiCallback {
    private enum Kind { UNMAP, WRITE_SAME_UNMAP, WRITE_SAME_ZERO }

    private final IscsiBackendSession session;
    private final BlockRequest request;
    private final BackendCallback callback;
    private final Kind kind;
    private final long chunk;
    private final int blockSize;
    private final int lun;
    private long nextLba;
    private long blocksLeft;
    private boolean syncPending;
    private ByteBuf parameters; // of the command outstanding, released when it completes

    RangeCommand(IscsiBackendSession session, BlockRequest request, BackendCallback callback, BlockCommands commands) {
        this.session = session;
        this.request = request;
        this.callback = callback;
        Attachment unit = commands.unit();
        this.blockSize = commands.blockSize();
        this.lun = session.lun();
        if (request.op() == BlockOp.TRIM) {
            this.kind = unit.unmap() ? Kind.UNMAP : Kind.WRITE_SAME_UNMAP;
        } else {
            boolean hole = !request.hasFlag(BlockFlags.NO_HOLE) && unit.writeSameUnmap() && unit.unmappedReadsZero();
            this.kind = hole ? Kind.WRITE_SAME_UNMAP : Kind.WRITE_SAME_ZERO;
        }
        this.chunk = kind == Kind.UNMAP ? unit.unmapChunk() : unit.writeSameChunk();
        this.nextLba = request.offset() / blockSize;
        this.blocksLeft = request.length() / blockSize;
        this.syncPending = request.hasFlag(BlockFlags.FUA);
    }

    /** Sends the next command, or reports success when none is left. */
    void next() {
        if (blocksLeft > 0) {
            int n = (int) Math.min(blocksLeft, Math.min(chunk, Integer.MAX_VALUE));
            ScsiTask task = task(nextLba, n);
            nextLba += n;
            blocksLeft -= n;
            session.execute(task, this);
        } else if (syncPending) {
            syncPending = false;
            long lba = request.offset() / blockSize;
            int blocks = request.length() / blockSize;
            session.execute(new ScsiTask(lun, Cdbs.synchronizeCache16(lba, blocks), null, 0), this);
        } else {
            callback.succeeded(null, null);
        }
    }

    private ScsiTask task(long lba, int blocks) {
        PooledByteBufAllocator a = PooledByteBufAllocator.DEFAULT;
        if (kind == Kind.UNMAP) {
            parameters = UnmapParameters.encode(a, lba, blocks);
            return new ScsiTask(lun, Cdbs.unmap(parameters.readableBytes()), parameters, 0);
        }
        parameters = a.buffer(blockSize, blockSize).writeZero(blockSize);
        return new ScsiTask(lun, Cdbs.writeSame16(lba, blocks, kind == Kind.WRITE_SAME_UNMAP), parameters, 0);
    }

    private void releaseParameters() {
        ByteBuf p = parameters;
        if (p != null) {
            parameters = null;
            p.release();
        }
    }

    @Override
    public void completed(ScsiResult result) {
        session.taskDone();
        releaseParameters();
        int status = result.status();
        byte[] senseBytes = result.sense();
        result.release();
        if (status != ScsiStatus.GOOD) {
            SenseData sense = ControlCommand.sense(senseBytes);
            Classification c = ScsiClassifier.classify(status, sense);
            if (c.action() != Action.OK) {
                session.fail(request, callback, c, sense);
                return;
            }
        }
        next();
    }

    @Override
    public void failed(TaskFailure failure) {
        session.taskDone();
        releaseParameters();
        callback.failed(session.failureOf(request, failure));
    }
}
