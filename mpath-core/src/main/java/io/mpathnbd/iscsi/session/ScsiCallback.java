package io.mpathnbd.iscsi.session;

/** The outcome of one {@link ScsiTask}: exactly one method is called, once, on the connection's event loop. */
public interface ScsiCallback {
    /** The target answered with a SCSI status. The callee owns {@code result} and must release it. */
    void completed(ScsiResult result);

    /** No SCSI status will arrive. */
    void failed(TaskFailure failure);
}
