package io.mpathnbd.iscsi.session;

import io.mpathnbd.iscsi.pdu.DataInSequence;
import io.netty.buffer.ByteBuf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One SCSI task from {@link IscsiConnection#execute} until its callback has fired: its tag and CmdSN, the write data
 * it owns (a retained slice, released when the task ends), the Data-In gathered so far, its deadline, and whether it
 * timed out. Confined to the connection's event loop.
 */
final class ActiveTask {
    private static final Logger LOG = LoggerFactory.getLogger(ActiveTask.class);

    final ScsiTask task;
    final long lunField;
    final int itt;
    final long deadlineNanos;
    private final ScsiCallback callback;
    private ByteBuf writeData;
    private DataInSequence dataIn;
    private ReadAssembly assembly;
    private int cmdSN;
    private boolean sent;
    private boolean timedOut;
    private boolean finished;

    ActiveTask(ScsiTask task, ScsiCallback callback, ByteBuf ownedWriteData, long lunField, int itt,
            long deadlineNanos) {
        this.task = task;
        this.callback = callback;
        this.writeData = ownedWriteData;
        this.lunField = lunField;
        this.itt = itt;
        this.deadlineNanos = deadlineNanos;
    }

    void sent(int cmdSN) {
        this.cmdSN = cmdSN;
        this.sent = true;
    }

    boolean isSent() {
        return sent;
    }

    int cmdSN() {
        return cmdSN;
    }

    boolean isWrite() {
        return writeData != null;
    }

    /** The write data this task owns (null for other tasks). */
    ByteBuf writeData() {
        return writeData;
    }

    boolean isRead() {
        return task.dataInLength() > 0;
    }

    int expectedLength() {
        return isWrite() ? writeData.readableBytes() : task.dataInLength();
    }

    void markTimedOut() {
        timedOut = true;
    }

    boolean timedOut() {
        return timedOut;
    }

    boolean finished() {
        return finished;
    }

    /** The Data-In checker, made on the first Data-In. */
    DataInSequence dataIn() {
        if (dataIn == null) {
            dataIn = new DataInSequence(itt, task.dataInLength());
        }
        return dataIn;
    }

    /** Null until a Data-In arrived or a response ends a command without data. */
    DataInSequence dataInOrNull() {
        return dataIn;
    }

    ReadAssembly assembly() {
        if (assembly == null) {
            assembly = new ReadAssembly();
        }
        return assembly;
    }

    /** Delivers the status; the gathered data goes into the result. */
    void complete(int status, byte[] sense, int residual, boolean underflow, boolean overflow) {
        if (finished) {
            return;
        }
        finished = true;
        ByteBuf data = assembly == null ? null : assembly.take();
        releaseWriteData();
        ScsiResult result = new ScsiResult(status, data, sense, residual, underflow, overflow);
        try {
            callback.completed(result);
        } catch (RuntimeException e) {
            LOG.error("SCSI callback failed for task 0x{}", Integer.toHexString(itt), e);
        }
    }

    void fail(TaskFailure.Kind kind, String message) {
        if (finished) {
            return;
        }
        finished = true;
        if (assembly != null) {
            assembly.release();
        }
        releaseWriteData();
        try {
            callback.failed(new TaskFailure(kind, message));
        } catch (RuntimeException e) {
            LOG.error("SCSI callback failed for task 0x{}", Integer.toHexString(itt), e);
        }
    }

    private void releaseWriteData() {
        if (writeData != null) {
            writeData.release();
            writeData = null;
        }
    }

    String describe() {
        return "task 0x" + Integer.toHexString(itt) + " (opcode 0x" + Integer.toHexString(task.cdb()[0] & 0xff)
                + ")";
    }
}
