package io.mpathnbd.iscsi.pdu;

import static io.mpathnbd.core.support.WireBytes.pooled;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Data-Out segmentation of writes and Data-In sequence checks of reads. */
class DataSequencingTest {
    private static final int MIB = 1 << 20;
    private static final int SEGMENT = 8192;
    private static final int MAX_BURST = 262144;

    /**
     * A 1 MiB write against tgt's parameters (ImmediateData=Yes, InitialR2T=Yes, FirstBurstLength 65536,
     * MaxBurstLength 262144, MaxRecvDataSegmentLength 8192): 8 KiB of immediate data, then R2Ts of at most 256 KiB,
     * each answered by 8 KiB Data-Out PDUs that slice the write buffer.
     */
    @Test
    void oneMebibyteWriteWithR2tBursts() {
        byte[] payload = new byte[MIB];
        new Random(7).nextBytes(payload);
        ByteBuf write = pooled(payload);
        int immediate = DataOutBurst.immediateLength(MIB, true, 65536, SEGMENT);
        assertEquals(SEGMENT, immediate);
        DataOutBurst unsolicited = DataOutBurst.unsolicited(write, 0, 1, immediate, true, 65536, SEGMENT);
        assertFalse(unsolicited.hasNext(), "InitialR2T=Yes: nothing unsolicited beyond immediate data");

        byte[] rebuilt = new byte[MIB];
        System.arraycopy(payload, 0, rebuilt, 0, immediate);
        List<DataOut> sent = new ArrayList<>();
        int offset = immediate;
        int r2tSN = 0;
        while (offset < MIB) {
            int length = Math.min(MAX_BURST, MIB - offset);
            ReadyToTransfer r2t = new ReadyToTransfer(0, 1, 0x100 + r2tSN, 0, 0, 0, r2tSN++, offset, length);
            DataOutBurst burst = DataOutBurst.solicited(write, r2t, 0, SEGMENT, MAX_BURST);
            int dataSN = 0;
            while (burst.hasNext()) {
                DataOut pdu = burst.next(42);
                assertEquals(dataSN++, pdu.dataSN(), "DataSN restarts per R2T");
                assertEquals(r2t.ttt(), pdu.ttt());
                assertEquals(42, pdu.expStatSN());
                assertTrue(pdu.data().readableBytes() <= SEGMENT);
                assertEquals(!burst.hasNext(), pdu.isFinal(), "F on the last PDU of the burst only");
                pdu.data().getBytes(pdu.data().readerIndex(), rebuilt, pdu.bufferOffset(),
                        pdu.data().readableBytes());
                sent.add(pdu);
            }
            assertEquals(length / SEGMENT, dataSN);
            offset += length;
        }
        assertEquals(4, r2tSN, "(1 MiB - 8 KiB) in bursts of at most 256 KiB");
        assertEquals((MIB - SEGMENT) / SEGMENT, sent.size());
        assertTrue(java.util.Arrays.equals(payload, rebuilt));
        assertEquals(1 + sent.size(), write.refCnt(), "each PDU holds a retained slice, no copy");
        sent.forEach(p -> assertTrue(p.release()));
        assertEquals(1, write.refCnt());
        assertTrue(write.release());
    }

    @Test
    void unsolicitedBurstUpToFirstBurstLength() {
        ByteBuf write = pooled(new byte[100_000]);
        int immediate = DataOutBurst.immediateLength(100_000, true, 65536, SEGMENT);
        DataOutBurst burst = DataOutBurst.unsolicited(write, 0, 9, immediate, false, 65536, SEGMENT);
        int expectedOffset = immediate;
        int n = 0;
        while (burst.hasNext()) {
            DataOut pdu = burst.next(0);
            assertEquals(Opcodes.RESERVED_TAG, pdu.ttt());
            assertEquals(expectedOffset, pdu.bufferOffset());
            assertEquals(n++, pdu.dataSN());
            expectedOffset += pdu.data().readableBytes();
            pdu.release();
        }
        assertEquals(65536, expectedOffset, "immediate plus unsolicited data stop at FirstBurstLength");
        assertEquals(7, n);
        // a short write: unsolicited data ends at the write's end, with a short last segment
        ByteBuf small = pooled(new byte[10_000]);
        DataOutBurst all = DataOutBurst.unsolicited(small, 0, 9, 0, false, 65536, SEGMENT);
        DataOut first = all.next(0);
        DataOut last = all.next(0);
        assertFalse(first.isFinal());
        assertTrue(last.isFinal());
        assertEquals(10_000 - SEGMENT, last.data().readableBytes());
        assertFalse(all.hasNext());
        assertThrows(IllegalStateException.class, () -> all.next(0));
        first.release();
        last.release();
        assertTrue(write.release());
        assertTrue(small.release());
    }

    @Test
    void r2tOutsideTheWriteOrAboveMaxBurstIsAProtocolError() {
        ByteBuf write = pooled(new byte[MIB]);
        assertThrows(IscsiProtocolException.class, () -> DataOutBurst.solicited(write,
                new ReadyToTransfer(0, 1, 2, 0, 0, 0, 0, 0, MAX_BURST + 1), 0, SEGMENT, MAX_BURST));
        assertThrows(IscsiProtocolException.class, () -> DataOutBurst.solicited(write,
                new ReadyToTransfer(0, 1, 2, 0, 0, 0, 0, MIB - 4096, 8192), 0, SEGMENT, MAX_BURST));
        assertThrows(IscsiProtocolException.class, () -> DataOutBurst.solicited(write,
                new ReadyToTransfer(0, 1, 2, 0, 0, 0, 0, 0xfffff000, 8192), 0, SEGMENT, MAX_BURST));
        assertEquals(1, write.refCnt());
        assertTrue(write.release());
    }

    private static DataIn dataIn(int flags, int status, int dataSN, int offset, int residual, int length) {
        return new DataIn(flags, status, 0, 1, Opcodes.RESERVED_TAG, 0, 0, 0, dataSN, offset, residual,
                pooled(new byte[length]));
    }

    private static boolean accept(DataInSequence seq, DataIn pdu) {
        try {
            return seq.accept(pdu);
        } finally {
            pdu.release();
        }
    }

    @Test
    void dataInSequenceInOrderWithStatusOnTheLastPdu() {
        DataInSequence seq = new DataInSequence(1, 3 * SEGMENT);
        assertFalse(accept(seq, dataIn(0, 0, 0, 0, 0, SEGMENT)));
        assertFalse(accept(seq, dataIn(Opcodes.FINAL, 0, 1, SEGMENT, 0, SEGMENT)), "F alone ends a sequence only");
        assertTrue(accept(seq, dataIn(Opcodes.FINAL | DataIn.FLAG_STATUS, 0, 2, 2 * SEGMENT, 0, SEGMENT)));
        assertTrue(seq.done());
        assertEquals(3 * SEGMENT, seq.received());
        assertEquals(3, seq.pdus());
        assertThrows(IscsiProtocolException.class, () -> accept(seq, dataIn(0, 0, 3, 3 * SEGMENT, 0, 0)));
    }

    @Test
    void dataInSequenceViolations() {
        DataInSequence gap = new DataInSequence(1, 4 * SEGMENT);
        accept(gap, dataIn(0, 0, 0, 0, 0, SEGMENT));
        assertThrows(IscsiProtocolException.class, () -> accept(gap, dataIn(0, 0, 2, SEGMENT, 0, SEGMENT)),
                "DataSN gap");
        DataInSequence hole = new DataInSequence(1, 4 * SEGMENT);
        accept(hole, dataIn(0, 0, 0, 0, 0, SEGMENT));
        assertThrows(IscsiProtocolException.class, () -> accept(hole, dataIn(0, 0, 1, 2 * SEGMENT, 0, SEGMENT)),
                "offset gap");
        DataInSequence over = new DataInSequence(1, SEGMENT);
        assertThrows(IscsiProtocolException.class, () -> accept(over, dataIn(0, 0, 0, 0, 0, SEGMENT + 4)),
                "past the expected length");
        DataInSequence shortGood = new DataInSequence(1, 2 * SEGMENT);
        assertThrows(IscsiProtocolException.class,
                () -> accept(shortGood, dataIn(Opcodes.FINAL | DataIn.FLAG_STATUS, 0, 0, 0, 0, SEGMENT)),
                "GOOD without residual after half the data");
        DataInSequence underflow = new DataInSequence(1, 2 * SEGMENT);
        assertTrue(accept(underflow, dataIn(Opcodes.FINAL | DataIn.FLAG_STATUS | DataIn.FLAG_UNDERFLOW, 0, 0, 0,
                SEGMENT, SEGMENT)), "a residual that accounts for the missing bytes");
        DataInSequence failed = new DataInSequence(1, 2 * SEGMENT);
        assertTrue(accept(failed, dataIn(Opcodes.FINAL | DataIn.FLAG_STATUS, 0x02, 0, 0, 0, SEGMENT)),
                "CHECK CONDITION may stop short");
        DataInSequence other = new DataInSequence(2, SEGMENT);
        assertThrows(IscsiProtocolException.class, () -> accept(other, dataIn(0, 0, 0, 0, 0, SEGMENT)));
    }

    @Test
    void dataInSequenceEndedBySeparateScsiResponse() {
        DataInSequence seq = new DataInSequence(1, 2 * SEGMENT);
        accept(seq, dataIn(Opcodes.FINAL, 0, 0, 0, 0, SEGMENT));
        ScsiResponse bad = new ScsiResponse(0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, null);
        assertThrows(IscsiProtocolException.class, () -> seq.complete(bad), "GOOD, no residual, half the data");
        DataInSequence ok = new DataInSequence(1, 2 * SEGMENT);
        accept(ok, dataIn(Opcodes.FINAL, 0, 0, 0, 0, SEGMENT));
        ok.complete(new ScsiResponse(ScsiResponse.FLAG_UNDERFLOW, 0, 0, 1, 0, 0, 0, 0, 1, 0, SEGMENT, null));
        assertTrue(ok.done());
        assertThrows(IscsiProtocolException.class,
                () -> ok.complete(new ScsiResponse(0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, null)));
    }
}
