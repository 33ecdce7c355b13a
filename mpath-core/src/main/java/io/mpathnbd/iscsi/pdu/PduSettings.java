package io.mpathnbd.iscsi.pdu;

/**
 * The per-connection framing parameters shared by one connection's encoder and decoder. Login runs with the
 * defaults (no digests, 8192-byte segments both ways); the login layer applies the negotiated values when the final
 * Login Response arrives, before the next PDU is encoded or decoded (the decoder emits one PDU per decode step, so
 * the handler sees that response before the following bytes are parsed). Confined to the channel's event loop.
 */
public final class PduSettings {
    /** RFC 7143 default of MaxRecvDataSegmentLength, in force during login. */
    public static final int DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH = 8192;
    /** The smallest and largest values RFC 7143 allows for MaxRecvDataSegmentLength. */
    public static final int MIN_DATA_SEGMENT_LENGTH = 512;
    public static final int MAX_DATA_SEGMENT_LENGTH = Opcodes.MAX_DATA_SEGMENT_LENGTH;

    private boolean headerDigest;
    private boolean dataDigest;
    private int maxRecvDataSegmentLength = DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH;
    private int maxSendDataSegmentLength = DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH;

    public boolean headerDigest() {
        return headerDigest;
    }

    public PduSettings headerDigest(boolean enabled) {
        this.headerDigest = enabled;
        return this;
    }

    public boolean dataDigest() {
        return dataDigest;
    }

    public PduSettings dataDigest(boolean enabled) {
        this.dataDigest = enabled;
        return this;
    }

    /** Largest data segment this side accepts (what it declared as MaxRecvDataSegmentLength). */
    public int maxRecvDataSegmentLength() {
        return maxRecvDataSegmentLength;
    }

    public PduSettings maxRecvDataSegmentLength(int length) {
        this.maxRecvDataSegmentLength = checkLength(length);
        return this;
    }

    /** Largest data segment the peer accepts (the MaxRecvDataSegmentLength it declared). */
    public int maxSendDataSegmentLength() {
        return maxSendDataSegmentLength;
    }

    public PduSettings maxSendDataSegmentLength(int length) {
        this.maxSendDataSegmentLength = checkLength(length);
        return this;
    }

    private static int checkLength(int length) {
        if (length < MIN_DATA_SEGMENT_LENGTH || length > MAX_DATA_SEGMENT_LENGTH) {
            throw new IllegalArgumentException("MaxRecvDataSegmentLength " + length + " outside "
                    + MIN_DATA_SEGMENT_LENGTH + ".." + MAX_DATA_SEGMENT_LENGTH);
        }
        return length;
    }

    @Override
    public String toString() {
        return "PduSettings[headerDigest=" + headerDigest + " dataDigest=" + dataDigest + " maxRecv="
                + maxRecvDataSegmentLength + " maxSend=" + maxSendDataSegmentLength + "]";
    }
}
