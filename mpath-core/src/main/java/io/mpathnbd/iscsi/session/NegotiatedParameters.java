package io.mpathnbd.iscsi.session;

/**
 * The outcome of login negotiation. {@code maxRecvDataSegmentLength} is what this initiator declared (the largest
 * segment it accepts), {@code maxSendDataSegmentLength} what the target declared (the largest we may send).
 */
public record NegotiatedParameters(boolean headerDigest, boolean dataDigest, int maxRecvDataSegmentLength,
        int maxSendDataSegmentLength, int maxBurstLength, int firstBurstLength, boolean initialR2T,
        boolean immediateData, int maxOutstandingR2T, int errorRecoveryLevel, int tsih, String targetAlias,
        int targetPortalGroupTag) {
}
