package io.mpathnbd.iscsi.backend;

import io.mpathnbd.core.backend.BackendException;
import io.mpathnbd.core.backend.Failure;
import io.mpathnbd.iscsi.scsi.ScsiClassifier;
import io.mpathnbd.iscsi.scsi.ScsiFormatException;
import io.mpathnbd.iscsi.scsi.ScsiStatus;
import io.mpathnbd.iscsi.scsi.SenseData;
import io.mpathnbd.iscsi.session.IscsiConnection;
import io.mpathnbd.iscsi.session.ScsiCallback;
import io.mpathnbd.iscsi.session.ScsiResult;
import io.mpathnbd.iscsi.session.ScsiTask;
import io.mpathnbd.iscsi.session.TaskFailure;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Runs one small control command (attach, ALUA, probe) and hands back its answer with the data copied to the heap,
 * so callers parse at leisure and own nothing. Not for the I/O path.
 */
final class ControlCommand {

    /** The target's answer: status, parsed sense (null if none or unparsable) and the data read. */
    record Answer(int status, SenseData sense, ByteBuf data) {
        boolean good() {
            return status == ScsiStatus.GOOD;
        }

        ScsiClassifier.Classification classify() {
            return ScsiClassifier.classify(status, sense);
        }

        String describe() {
            return status == ScsiStatus.CHECK_CONDITION && sense != null ? "CHECK CONDITION " + sense
                    : ScsiStatus.name(status);
        }
    }

    /**
     * No status came back: the task failure's kind is kept, so that a command the target never answered reports a
     * TIMEOUT rather than a lost connection.
     */
    static final class NoStatus extends BackendException {
        private static final long serialVersionUID = 1L;
        private final transient TaskFailure.Kind kind;

        NoStatus(String message, TaskFailure.Kind kind, Throwable cause) {
            super(message, cause);
            this.kind = kind;
        }

        TaskFailure.Kind kind() {
            return kind;
        }
    }

    private ControlCommand() {
    }

    /**
     * The core's failure for a command that completed exceptionally: TIMEOUT when the target did not answer within
     * the task timeout, else PATH (the connection was lost, the command could not be sent, ...).
     */
    static Failure failureOf(Throwable e) {
        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        String m = cause.getMessage() != null ? cause.getMessage() : cause.toString();
        return cause instanceof NoStatus n && n.kind() == TaskFailure.Kind.TIMEOUT ? Failure.timeout(m)
                : Failure.path(m);
    }

    /** Completes with the answer, or exceptionally with a {@link BackendException} when no status came back. */
    static CompletableFuture<Answer> run(IscsiConnection c, int lun, byte[] cdb, int dataIn, String what) {
        return run(c, lun, cdb, null, dataIn, what);
    }

    /** The same with {@code dataOut} (a parameter list) sent with the command. */
    static CompletableFuture<Answer> run(IscsiConnection c, int lun, byte[] cdb, byte[] dataOut, int dataIn,
            String what) {
        CompletableFuture<Answer> f = new CompletableFuture<>();
        ByteBuf out = dataOut == null ? null : Unpooled.wrappedBuffer(dataOut); // the connection slices its own
        try {
            c.execute(new ScsiTask(lun, cdb, out, dataIn), new ScsiCallback() {
                @Override
                public void completed(ScsiResult result) {
                    try {
                        byte[] data = ByteBufUtil.getBytes(result.data());
                        f.complete(new Answer(result.status(), sense(result.sense()), Unpooled.wrappedBuffer(data)));
                    } finally {
                        result.release();
                    }
                }

                @Override
                public void failed(TaskFailure failure) {
                    f.completeExceptionally(new NoStatus(what + ": " + failure, failure.kind(), null));
                }
            });
        } catch (RuntimeException e) {
            f.completeExceptionally(new NoStatus(what + ": " + e.getMessage(), TaskFailure.Kind.CONNECTION_LOST, e));
        } finally {
            if (out != null) {
                out.release();
            }
        }
        return f;
    }

    /** Sense bytes to their meaning; bytes we cannot read count as none (classified as a path error). */
    static SenseData sense(byte[] sense) {
        if (sense == null || sense.length == 0) {
            return null;
        }
        try {
            return SenseData.parse(sense);
        } catch (ScsiFormatException e) {
            return null;
        }
    }
}
