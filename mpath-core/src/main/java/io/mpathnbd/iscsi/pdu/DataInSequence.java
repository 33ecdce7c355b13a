package io.mpathnbd.iscsi.pdu;

/**
 * Checks the Data-In PDUs of one read command as they arrive (DataPDUInOrder and DataSequenceInOrder negotiated to
 * Yes): DataSN counts up from 0 without gaps, each PDU continues exactly where the last ended, nothing falls outside
 * the expected transfer length, nothing follows the status, and a GOOD status's residual matches the bytes received.
 * A violation throws {@link IscsiProtocolException}; the connection must then be dropped. Confined to one thread.
 */
public final class DataInSequence {
    private static final int GOOD = 0x00;

    private final int itt;
    private final int expectedLength;
    private int received;
    private int nextDataSN;
    private boolean done;

    public DataInSequence(int itt, int expectedLength) {
        if (expectedLength < 0) {
            throw new IllegalArgumentException("expected length " + expectedLength);
        }
        this.itt = itt;
        this.expectedLength = expectedLength;
    }

    /** Checks {@code pdu}; true when it carries the status and so completes the command. */
    public boolean accept(DataIn pdu) {
        if (done) {
            throw violation("Data-In after the command's status");
        }
        if (pdu.itt() != itt) {
            throw violation("Data-In for ITT 0x" + Integer.toHexString(pdu.itt()));
        }
        if (pdu.dataSN() != nextDataSN) {
            throw violation("Data-In DataSN " + Integer.toUnsignedString(pdu.dataSN()) + ", expected "
                    + Integer.toUnsignedString(nextDataSN));
        }
        int length = pdu.data().readableBytes();
        if (pdu.bufferOffset() != received) {
            throw violation("Data-In at offset " + Integer.toUnsignedString(pdu.bufferOffset()) + ", expected "
                    + received);
        }
        if ((long) received + length > expectedLength) {
            throw violation("Data-In past the expected " + expectedLength + " bytes");
        }
        received += length;
        nextDataSN++;
        if (pdu.hasStatus()) {
            checkResidual(pdu.status(), pdu.residualOverflow(), pdu.residualUnderflow(), pdu.residualCount());
            done = true;
        }
        return done;
    }

    /** Checks the SCSI Response that ends a command whose status did not come with its last Data-In. */
    public void complete(ScsiResponse response) {
        if (done) {
            throw violation("SCSI Response after the command's status");
        }
        if (response.itt() != itt) {
            throw violation("SCSI Response for ITT 0x" + Integer.toHexString(response.itt()));
        }
        if (response.response() == ScsiResponse.COMMAND_COMPLETED) {
            checkResidual(response.status(), response.residualOverflow(), response.residualUnderflow(),
                    response.residualCount());
        }
        done = true;
    }

    private void checkResidual(int status, boolean overflow, boolean underflow, int residual) {
        if (status != GOOD) {
            return; // a failed command may stop short; its residual says nothing about what arrived
        }
        long expected = underflow ? (long) expectedLength - Integer.toUnsignedLong(residual) : expectedLength;
        if (received != expected) {
            throw violation("status GOOD after " + received + " of " + expectedLength + " bytes, residual "
                    + (underflow ? "underflow " + Integer.toUnsignedString(residual) : overflow ? "overflow" : "none"));
        }
    }

    /** Bytes received so far. */
    public int received() {
        return received;
    }

    /** Data-In PDUs received so far. */
    public int pdus() {
        return nextDataSN;
    }

    public boolean done() {
        return done;
    }

    private IscsiProtocolException violation(String message) {
        return new IscsiProtocolException("ITT 0x" + Integer.toHexString(itt) + ": " + message);
    }
}
