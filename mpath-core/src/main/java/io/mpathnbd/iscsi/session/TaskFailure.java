package io.mpathnbd.iscsi.session;

/**
 * Why a task did not complete with a SCSI status. {@link Kind#TIMEOUT}: no answer within the task timeout; the
 * connection first tried ABORT TASK, then LUN RESET, and closed itself when those did not answer; the callback fires
 * only once that outcome is known.
 */
public record TaskFailure(Kind kind, String message) {
    public enum Kind {
        /** The connection failed or was closed before the task's status arrived. */
        CONNECTION_LOST,
        /** The task timed out (see the record's description). */
        TIMEOUT,
        /** The target aborted the task (task management by someone else, or a session reset). */
        ABORTED,
        /** The target rejected the command PDU. */
        REJECTED
    }

    @Override
    public String toString() {
        return kind + ": " + message;
    }
}
