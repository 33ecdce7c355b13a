package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;

/**
 * Cuts one output sequence of a write into Data-Out PDUs: the unsolicited burst that may follow the SCSI Command, or
 * the burst an R2T asks for. Each PDU carries at most the target's MaxRecvDataSegmentLength, as a retained slice of
 * the command's write buffer (never a copy); DataSN counts from 0 within the sequence, Buffer Offset is absolute, the
 * last PDU has F set, and the TTT is the R2T's (reserved for unsolicited data). PDUs are made one at a time, so the
 * caller stamps each with the ExpStatSN current when it is sent. Confined to one thread.
 */
public final class DataOutBurst {
    private final ByteBuf writeData;
    private final long lun;
    private final int itt;
    private final int ttt;
    private final int maxSegment;
    private final int end;
    private int offset;
    private int dataSN;

    private DataOutBurst(ByteBuf writeData, long lun, int itt, int ttt, int offset, int length, int maxSegment) {
        if (maxSegment <= 0) {
            throw new IllegalArgumentException("segment limit " + maxSegment);
        }
        this.writeData = writeData;
        this.lun = lun;
        this.itt = itt;
        this.ttt = ttt;
        this.maxSegment = maxSegment;
        this.offset = offset;
        this.end = offset + length;
    }

    /**
     * Bytes of immediate data to put in the SCSI Command itself: none unless ImmediateData was negotiated, otherwise
     * as much as FirstBurstLength and the target's segment limit allow.
     */
    public static int immediateLength(int total, boolean immediateData, int firstBurstLength, int maxSegment) {
        return immediateData ? Math.min(total, Math.min(firstBurstLength, maxSegment)) : 0;
    }

    /**
     * The unsolicited Data-Out burst after {@code immediateLength} bytes of immediate data: none when InitialR2T is
     * Yes, otherwise up to FirstBurstLength bytes in all (immediate data included). The SCSI Command's F bit is set
     * exactly when this burst is empty.
     */
    public static DataOutBurst unsolicited(ByteBuf writeData, long lun, int itt, int immediateLength,
            boolean initialR2T, int firstBurstLength, int maxSegment) {
        int total = writeData.readableBytes();
        int limit = initialR2T ? immediateLength : Math.min(total, Math.max(firstBurstLength, immediateLength));
        return new DataOutBurst(writeData, lun, itt, Opcodes.RESERVED_TAG, immediateLength, limit - immediateLength,
                maxSegment);
    }

    /**
     * The burst an R2T asks for. An R2T outside the write buffer or longer than MaxBurstLength breaks the protocol.
     */
    public static DataOutBurst solicited(ByteBuf writeData, ReadyToTransfer r2t, long lun, int maxSegment,
            int maxBurstLength) {
        long offset = Integer.toUnsignedLong(r2t.bufferOffset());
        long length = Integer.toUnsignedLong(r2t.desiredLength());
        if (length == 0 || length > maxBurstLength) {
            throw new IscsiProtocolException("R2T asks for " + length + " bytes, MaxBurstLength is " + maxBurstLength);
        }
        if (offset + length > writeData.readableBytes()) {
            throw new IscsiProtocolException("R2T asks for bytes " + offset + ".." + (offset + length)
                    + " of a " + writeData.readableBytes() + "-byte write");
        }
        return new DataOutBurst(writeData, lun, r2t.itt(), r2t.ttt(), (int) offset, (int) length, maxSegment);
    }

    public boolean hasNext() {
        return offset < end;
    }

    /** The next PDU; its data is a retained slice the PDU owns. */
    public DataOut next(int expStatSN) {
        if (!hasNext()) {
            throw new IllegalStateException("burst already sent");
        }
        int n = Math.min(maxSegment, end - offset);
        ByteBuf slice = writeData.retainedSlice(writeData.readerIndex() + offset, n);
        DataOut pdu = new DataOut(offset + n == end, lun, itt, ttt, expStatSN, dataSN, offset, slice);
        offset += n;
        dataSN++;
        return pdu;
    }

    /** Bytes this burst has not yet handed out. */
    public int remaining() {
        return end - offset;
    }
}
