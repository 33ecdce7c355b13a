package io.mpathnbd.iscsi.session;

import io.mpathnbd.iscsi.pdu.PduSettings;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Objects;

/**
 * Everything one initiator session needs. {@code targetName} null means a discovery session. {@code isid}: the low
 * 48 bits are the ISID; every path to a target needs its own (see {@link #randomIsid()}). The lengths are what this
 * initiator offers; the target's answers decide (see {@link NegotiatedParameters}).
 */
public record IscsiSessionConfig(String initiatorName, String targetName, InetSocketAddress portal, long isid,
        ChapSecret chap, ChapSecret mutualChap, boolean headerDigest, boolean dataDigest,
        int maxRecvDataSegmentLength, int maxBurstLength, int firstBurstLength, Duration loginTimeout,
        Duration nopInterval, Duration nopTimeout, Duration taskTimeout, Duration abortTimeout) {

    public static final int DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH = 262144;
    /** 16 MiB less one byte: RFC 7143 caps MaxBurstLength at 2^24 - 1. */
    public static final int DEFAULT_MAX_BURST_LENGTH = 0xffffff;
    public static final int DEFAULT_FIRST_BURST_LENGTH = 256 * 1024;
    public static final Duration DEFAULT_LOGIN_TIMEOUT = Duration.ofSeconds(15);
    public static final Duration DEFAULT_NOP_INTERVAL = Duration.ofSeconds(5);
    public static final Duration DEFAULT_NOP_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_TASK_TIMEOUT = Duration.ofSeconds(30);
    public static final Duration DEFAULT_ABORT_TIMEOUT = Duration.ofSeconds(1);

    /** RFC 7143 limit of MaxBurstLength and FirstBurstLength. */
    private static final int MAX_BURST = 0xffffff;
    private static final long ISID_TYPE_RANDOM = 0x80L << 40;
    private static final SecureRandom RANDOM = new SecureRandom();

    public IscsiSessionConfig {
        Objects.requireNonNull(initiatorName, "initiatorName");
        Objects.requireNonNull(portal, "portal");
        Objects.requireNonNull(loginTimeout, "loginTimeout");
        Objects.requireNonNull(nopInterval, "nopInterval");
        Objects.requireNonNull(nopTimeout, "nopTimeout");
        Objects.requireNonNull(taskTimeout, "taskTimeout");
        Objects.requireNonNull(abortTimeout, "abortTimeout");
        if (initiatorName.isEmpty()) {
            throw new IllegalArgumentException("initiator name is empty");
        }
        if ((isid >>> 48) != 0) {
            throw new IllegalArgumentException("ISID wider than 48 bits: 0x" + Long.toHexString(isid));
        }
        if (maxRecvDataSegmentLength < PduSettings.MIN_DATA_SEGMENT_LENGTH
                || maxRecvDataSegmentLength > PduSettings.MAX_DATA_SEGMENT_LENGTH) {
            throw new IllegalArgumentException("MaxRecvDataSegmentLength " + maxRecvDataSegmentLength);
        }
        if (maxBurstLength < 512 || maxBurstLength > MAX_BURST) {
            throw new IllegalArgumentException("MaxBurstLength " + maxBurstLength);
        }
        if (firstBurstLength < 512 || firstBurstLength > maxBurstLength) {
            throw new IllegalArgumentException("FirstBurstLength " + firstBurstLength + " (MaxBurstLength "
                    + maxBurstLength + ")");
        }
        for (Duration d : new Duration[] {loginTimeout, nopTimeout, taskTimeout, abortTimeout}) {
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("timeouts must be positive: " + d);
            }
        }
        if (nopInterval.isNegative()) {
            throw new IllegalArgumentException("NOP interval " + nopInterval);
        }
        if (mutualChap != null && chap == null) {
            throw new IllegalArgumentException("mutual CHAP needs CHAP towards the target as well");
        }
    }

    /** The defaults above: no CHAP, no digests. {@code targetName} null makes a discovery session. */
    public static IscsiSessionConfig defaults(String initiatorName, String targetName, InetSocketAddress portal,
            long isid) {
        return new IscsiSessionConfig(initiatorName, targetName, portal, isid, null, null, false, false,
                DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH, DEFAULT_MAX_BURST_LENGTH, DEFAULT_FIRST_BURST_LENGTH,
                DEFAULT_LOGIN_TIMEOUT, DEFAULT_NOP_INTERVAL, DEFAULT_NOP_TIMEOUT, DEFAULT_TASK_TIMEOUT,
                DEFAULT_ABORT_TIMEOUT);
    }

    /** A random ISID of the "random" type (T = 10b): distinct per path with overwhelming probability. */
    public static long randomIsid() {
        return ISID_TYPE_RANDOM | (RANDOM.nextLong() & 0x00ff_ffff_ffffL);
    }

    /** True for a discovery session (no target name). */
    public boolean discovery() {
        return targetName == null;
    }

    /** "host:port" of the portal, for messages. */
    public String portalText() {
        return portal.getHostString() + ":" + portal.getPort();
    }

    public IscsiSessionConfig withInitiatorName(String v) {
        return new IscsiSessionConfig(v, targetName, portal, isid, chap, mutualChap, headerDigest, dataDigest,
                maxRecvDataSegmentLength, maxBurstLength, firstBurstLength, loginTimeout, nopInterval, nopTimeout,
                taskTimeout, abortTimeout);
    }

    public IscsiSessionConfig withTargetName(String v) {
        return new IscsiSessionConfig(initiatorName, v, portal, isid, chap, mutualChap, headerDigest, dataDigest,
                maxRecvDataSegmentLength, maxBurstLength, firstBurstLength, loginTimeout, nopInterval, nopTimeout,
                taskTimeout, abortTimeout);
    }

    public IscsiSessionConfig withPortal(InetSocketAddress v) {
        return new IscsiSessionConfig(initiatorName, targetName, v, isid, chap, mutualChap, headerDigest, dataDigest,
                maxRecvDataSegmentLength, maxBurstLength, firstBurstLength, loginTimeout, nopInterval, nopTimeout,
                taskTimeout, abortTimeout);
    }

    public IscsiSessionConfig withIsid(long v) {
        return new IscsiSessionConfig(initiatorName, targetName, portal, v, chap, mutualChap, headerDigest, dataDigest,
                maxRecvDataSegmentLength, maxBurstLength, firstBurstLength, loginTimeout, nopInterval, nopTimeout,
                taskTimeout, abortTimeout);
    }

    public IscsiSessionConfig withChap(ChapSecret v) {
        return new IscsiSessionConfig(initiatorName, targetName, portal, isid, v, mutualChap, headerDigest, dataDigest,
                maxRecvDataSegmentLength, maxBurstLength, firstBurstLength, loginTimeout, nopInterval, nopTimeout,
                taskTimeout, abortTimeout);
    }

    public IscsiSessionConfig withMutualChap(ChapSecret v) {
        return new IscsiSessionConfig(initiatorName, targetName, portal, isid, chap, v, headerDigest, dataDigest,
                maxRecvDataSegmentLength, maxBurstLength, firstBurstLength, loginTimeout, nopInterval, nopTimeout,
                taskTimeout, abortTimeout);
    }

    public IscsiSessionConfig withHeaderDigest(boolean v) {
        return new IscsiSessionConfig(initiatorName, targetName, portal, isid, chap, mutualChap, v, dataDigest,
                maxRecvDataSegmentLength, maxBurstLength, firstBurstLength, loginTimeout, nopInterval, nopTimeout,
                taskTimeout, abortTimeout);
    }

    public IscsiSessionConfig withDataDigest(boolean v) {
        return new IscsiSessionConfig(initiatorName, targetName, portal, isid, chap, mutualChap, headerDigest, v,
                maxRecvDataSegmentLength, maxBurstLength, firstBurstLength, loginTimeout, nopInterval, nopTimeout,
                taskTimeout, abortTimeout);
    }

    public IscsiSessionConfig withMaxRecvDataSegmentLength(int v) {
        return new IscsiSessionConfig(initiatorName, targetName, portal, isid, chap, mutualChap, headerDigest,
                dataDigest, v, maxBurstLength, firstBurstLength, loginTimeout, nopInterval, nopTimeout, taskTimeout,
                abortTimeout);
    }

    public IscsiSessionConfig withMaxBurstLength(int v) {
        return new IscsiSessionConfig(initiatorName, targetName, portal, isid, chap, mutualChap, headerDigest,
                dataDigest, maxRecvDataSegmentLength, v, firstBurstLength, loginTimeout, nopInterval, nopTimeout,
                taskTimeout, abortTimeout);
    }

    public IscsiSessionConfig withFirstBurstLength(int v) {
        return new IscsiSessionConfig(initiatorName, targetName, portal, isid, chap, mutualChap, headerDigest,
                dataDigest, maxRecvDataSegmentLength, maxBurstLength, v, loginTimeout, nopInterval, nopTimeout,
                taskTimeout, abortTimeout);
    }

    public IscsiSessionConfig withLoginTimeout(Duration v) {
        return new IscsiSessionConfig(initiatorName, targetName, portal, isid, chap, mutualChap, headerDigest,
                dataDigest, maxRecvDataSegmentLength, maxBurstLength, firstBurstLength, v, nopInterval, nopTimeout,
                taskTimeout, abortTimeout);
    }

    /** Zero switches the keepalive off. */
    public IscsiSessionConfig withNopInterval(Duration v) {
        return new IscsiSessionConfig(initiatorName, targetName, portal, isid, chap, mutualChap, headerDigest,
                dataDigest, maxRecvDataSegmentLength, maxBurstLength, firstBurstLength, loginTimeout, v, nopTimeout,
                taskTimeout, abortTimeout);
    }

    public IscsiSessionConfig withNopTimeout(Duration v) {
        return new IscsiSessionConfig(initiatorName, targetName, portal, isid, chap, mutualChap, headerDigest,
                dataDigest, maxRecvDataSegmentLength, maxBurstLength, firstBurstLength, loginTimeout, nopInterval, v,
                taskTimeout, abortTimeout);
    }

    public IscsiSessionConfig withTaskTimeout(Duration v) {
        return new IscsiSessionConfig(initiatorName, targetName, portal, isid, chap, mutualChap, headerDigest,
                dataDigest, maxRecvDataSegmentLength, maxBurstLength, firstBurstLength, loginTimeout, nopInterval,
                nopTimeout, v, abortTimeout);
    }

    public IscsiSessionConfig withAbortTimeout(Duration v) {
        return new IscsiSessionConfig(initiatorName, targetName, portal, isid, chap, mutualChap, headerDigest,
                dataDigest, maxRecvDataSegmentLength, maxBurstLength, firstBurstLength, loginTimeout, nopInterval,
                nopTimeout, taskTimeout, v);
    }

    /** Never shows the CHAP secrets. */
    @Override
    public String toString() {
        return "IscsiSessionConfig[initiator=" + initiatorName + " target=" + (targetName == null ? "(discovery)"
                : targetName) + " portal=" + portalText() + " isid=0x" + Long.toHexString(isid) + " chap="
                + (chap == null ? "none" : chap.user()) + (mutualChap == null ? "" : " mutual=" + mutualChap.user())
                + " headerDigest=" + headerDigest + " dataDigest=" + dataDigest + "]";
    }
}
