package io.mpathnbd.iscsi.backend;

import io.mpathnbd.core.backend.BackendInfo;
import io.mpathnbd.core.backend.Capability;
import io.mpathnbd.iscsi.scsi.BlockLimits;
import io.mpathnbd.iscsi.scsi.Capacity16;
import io.mpathnbd.iscsi.scsi.DeviceIdentification;
import io.mpathnbd.iscsi.scsi.LogicalBlockProvisioning;
import io.mpathnbd.iscsi.scsi.StandardInquiry;
import java.util.OptionalInt;

/**
 * What attaching to a logical unit found out, and what follows from it: the disk as the core sees it and which
 * commands TRIM and WRITE_ZEROES become.
 *
 * @param serial VPD 0x80, or null
 * @param identification VPD 0x83, or null if the target has no such page
 * @param limits VPD 0xB0, or null
 * @param provisioning VPD 0xB2, or null
 * @param alua the path's ALUA state, or null when the unit does not report TPGS
 */
record Attachment(StandardInquiry inquiry, String serial, DeviceIdentification identification, BlockLimits limits,
        LogicalBlockProvisioning provisioning, Capacity16 capacity, AluaStates.Result alua) {

    /** Blocks per WRITE SAME when the target states no maximum (Linux's sd uses a similar cap). */
    static final long DEFAULT_WRITE_SAME_BLOCKS = 1 << 16;
    static final long UNLIMITED = 0xffffffffL;
    /** Largest preferred block size we pass on (physical blocks beyond this are rare and unhelpful to clients). */
    private static final int MAX_PREFERRED = 64 * 1024;

    String identity() {
        return identification == null ? null : identification.identity();
    }

    OptionalInt relativePort() {
        return identification == null ? OptionalInt.empty() : identification.relativeTargetPort();
    }

    OptionalInt portGroup() {
        return identification == null ? OptionalInt.empty() : identification.targetPortGroup();
    }

    int blockSize() {
        return capacity.blockLength();
    }

    /** TRIM by UNMAP: thin provisioning enabled, UNMAP offered (and allowed by VPD 0xB2 when present). */
    boolean unmap() {
        return capacity.lbpme() && limits != null && limits.maxUnmapBlocks() > 0
                && (provisioning == null || provisioning.lbpu());
    }

    /** TRIM (or hole-punching zeroes) by WRITE SAME(16) with UNMAP. */
    boolean writeSameUnmap() {
        return capacity.lbpme() && provisioning != null && provisioning.lbpws();
    }

    /** Unmapped blocks read as zeroes, so zeroing may unmap. */
    boolean unmappedReadsZero() {
        return capacity.lbprz() || (provisioning != null && provisioning.lbprz());
    }

    /** Blocks per UNMAP command. */
    long unmapChunk() {
        long max = limits == null ? 0 : limits.maxUnmapBlocks();
        return max <= 0 || max >= UNLIMITED ? UNLIMITED : max;
    }

    /** Blocks per WRITE SAME command. */
    long writeSameChunk() {
        long max = limits == null ? 0 : limits.maxWriteSameBlocks();
        return max <= 0 ? DEFAULT_WRITE_SAME_BLOCKS : Math.min(max, UNLIMITED);
    }

    int capabilities() {
        int caps = Capability.FLUSH | Capability.FUA | Capability.WRITE_ZEROES;
        if (unmap() || writeSameUnmap()) {
            caps |= Capability.TRIM;
        }
        return caps;
    }

    /** Largest READ/WRITE payload: our limit, bounded by the target's maximum transfer length, whole blocks. */
    int maxPayload(int configured) {
        long max = configured;
        if (limits != null && limits.maxTransferBlocks() > 0) {
            max = Math.min(max, (long) limits.maxTransferBlocks() * blockSize());
        }
        max -= max % blockSize();
        return (int) Math.max(blockSize(), max);
    }

    BackendInfo toInfo(int configuredMaxPayload) {
        int bs = blockSize();
        long physical = capacity.physicalBlockLength();
        int preferred = (int) Math.min(MAX_PREFERRED, Math.max(bs, physical));
        return new BackendInfo(capacity.sizeBytes(), capabilities(), bs, preferred, maxPayload(configuredMaxPayload),
                identity(), description());
    }

    /** "VENDOR PRODUCT REV, serial S, naa.x": what the operator needs to recognise the disk. */
    String description() {
        StringBuilder sb = new StringBuilder();
        sb.append(inquiry.vendor().trim()).append(' ').append(inquiry.product().trim());
        if (!inquiry.revision().isBlank()) {
            sb.append(' ').append(inquiry.revision().trim());
        }
        if (serial != null && !serial.isBlank()) {
            sb.append(", serial ").append(serial.trim());
        }
        String id = identity();
        sb.append(", ").append(id == null ? "no identity" : id);
        return sb.toString();
    }
}
