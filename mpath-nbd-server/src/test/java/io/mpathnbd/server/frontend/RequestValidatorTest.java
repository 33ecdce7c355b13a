package io.mpathnbd.server.frontend;

import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_BLOCK_STATUS;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_CACHE;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_FLAG_DF;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_FLAG_FAST_ZERO;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_FLAG_FUA;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_FLAG_NO_HOLE;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_FLAG_PAYLOAD_LEN;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_FLAG_REQ_ONE;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_FLUSH;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_READ;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_RESIZE;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_TRIM;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_WRITE;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_WRITE_ZEROES;
import static io.mpathnbd.nbd.protocol.NbdConstants.TFLAG_HAS_FLAGS;
import static io.mpathnbd.nbd.protocol.NbdConstants.TFLAG_READ_ONLY;
import static io.mpathnbd.nbd.protocol.NbdConstants.TFLAG_SEND_DF;
import static io.mpathnbd.nbd.protocol.NbdConstants.TFLAG_SEND_FAST_ZERO;
import static io.mpathnbd.nbd.protocol.NbdConstants.TFLAG_SEND_FLUSH;
import static io.mpathnbd.nbd.protocol.NbdConstants.TFLAG_SEND_FUA;
import static io.mpathnbd.nbd.protocol.NbdConstants.TFLAG_SEND_TRIM;
import static io.mpathnbd.nbd.protocol.NbdConstants.TFLAG_SEND_WRITE_ZEROES;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** The request checks, their order and the errors the NBD spec names for them. */
class RequestValidatorTest {
    private static final long SIZE = 1 << 20;
    private static final BlockSizes SIZES = new BlockSizes(512, 4096, 256 * 1024);
    private static final int RW = TFLAG_HAS_FLAGS | TFLAG_SEND_FLUSH | TFLAG_SEND_FUA | TFLAG_SEND_TRIM
            | TFLAG_SEND_WRITE_ZEROES;

    private static ExportSession session(int flags, int metaContextId) {
        return new ExportSession(null, "t", SIZE, flags, true, metaContextId, true, SIZES, false, 0, 0);
    }

    private static Rejection check(ExportSession s, int type, int flags, long offset, long length) {
        return RequestValidator.check(type, flags, offset, length, false, s);
    }

    private static ExportSession extended(int flags) {
        return new ExportSession(null, "t", SIZE, flags, true, 1, true, SIZES, true, 0, 0);
    }

    @Test
    void extendedHeadersAllowPayloadLenOnWritesOnly() {
        ExportSession s = extended(RW);
        assertNull(check(s, CMD_WRITE, CMD_FLAG_PAYLOAD_LEN | CMD_FLAG_FUA, 0, 4096));
        assertNull(check(s, CMD_WRITE, 0, 0, 4096), "qemu 10 sends writes without the flag");
        assertEquals(Rejection.UNEXPECTED_PAYLOAD, check(s, CMD_READ, CMD_FLAG_PAYLOAD_LEN, 0, 4096));
        assertEquals(Rejection.UNEXPECTED_PAYLOAD, check(s, CMD_BLOCK_STATUS, CMD_FLAG_PAYLOAD_LEN, 0, 8));
        assertEquals(Rejection.BAD_FLAGS, check(session(RW, 1), CMD_WRITE, CMD_FLAG_PAYLOAD_LEN, 0, 4096),
                "PAYLOAD_LEN is no flag at all without extended headers");
    }

    @Test
    void sixtyFourBitLengthsAreUnsigned() {
        ExportSession s = extended(RW);
        // 2^63 and more are negative as a long: never "small"
        assertEquals(Rejection.TOO_LARGE, check(s, CMD_READ, 0, 0, Long.MIN_VALUE));
        assertEquals(Rejection.TOO_LARGE, check(s, CMD_WRITE_ZEROES, 0, 0, -512L));
        assertEquals(Rejection.OUT_OF_RANGE, check(s, CMD_BLOCK_STATUS, 0, 0, -512L));
        assertEquals(Rejection.OUT_OF_RANGE, check(s, CMD_TRIM, 0, 0, 1L << 40));
        assertEquals(Rejection.NO_SPACE, check(s, CMD_WRITE_ZEROES, 0, 0, 1L << 32), "done in pieces, if it fit");
        assertEquals(Rejection.TOO_LARGE, check(session(RW, 1), CMD_WRITE_ZEROES, 0, 0, 1L << 31),
                "a compact client's zero request over 2^31 - 1 is refused, as before");
        assertNull(check(s, CMD_BLOCK_STATUS, 0, 0, SIZE));
    }

    @Test
    void validRequestsPass() {
        ExportSession s = session(RW | TFLAG_SEND_DF | TFLAG_SEND_FAST_ZERO, 1);
        assertNull(check(s, CMD_READ, 0, 0, 4096));
        assertNull(check(s, CMD_READ, CMD_FLAG_DF, SIZE - 512, 512));
        assertNull(check(s, CMD_WRITE, CMD_FLAG_FUA, 512, 1024));
        assertNull(check(s, CMD_WRITE_ZEROES, CMD_FLAG_NO_HOLE | CMD_FLAG_FAST_ZERO | CMD_FLAG_FUA, 0, SIZE));
        assertNull(check(s, CMD_TRIM, CMD_FLAG_FUA, 0, SIZE));
        assertNull(check(s, CMD_BLOCK_STATUS, CMD_FLAG_REQ_ONE, 0, SIZE));
        assertNull(check(s, CMD_READ, 0, SIZE, 0), "zero length at the very end");
    }

    @Test
    void unknownCommandsAreInvalid() {
        ExportSession s = session(RW, 0);
        assertEquals(Rejection.UNKNOWN_COMMAND, check(s, CMD_RESIZE, 0, 0, 512));
        assertEquals(Rejection.UNKNOWN_COMMAND, check(s, 0xffff, 0, 0, 512));
        assertEquals(22, Rejection.UNKNOWN_COMMAND.errno());
    }

    @Test
    void flagsMustBeKnownApplicableAndNegotiated() {
        ExportSession s = session(RW, 1);
        assertEquals(Rejection.BAD_FLAGS, check(s, CMD_READ, 1 << 5, 0, 512), "unknown flag bit");
        assertEquals(Rejection.BAD_FLAGS, check(s, CMD_READ, CMD_FLAG_REQ_ONE, 0, 512), "REQ_ONE on READ");
        assertEquals(Rejection.BAD_FLAGS, check(s, CMD_WRITE, CMD_FLAG_NO_HOLE, 0, 512), "NO_HOLE on WRITE");
        assertEquals(Rejection.BAD_FLAGS, check(s, CMD_READ, CMD_FLAG_DF, 0, 512), "DF not advertised");
        assertEquals(Rejection.BAD_FLAGS, check(s, CMD_WRITE_ZEROES, CMD_FLAG_FAST_ZERO, 0, 512),
                "FAST_ZERO not advertised");
        assertNull(check(s, CMD_READ, CMD_FLAG_FUA, 0, 512), "FUA is valid on every command once advertised");
        assertNull(check(s, CMD_FLUSH, CMD_FLAG_FUA, 0, 0));
        ExportSession noFua = session(RW & ~TFLAG_SEND_FUA, 0);
        assertEquals(Rejection.BAD_FLAGS, check(noFua, CMD_WRITE, CMD_FLAG_FUA, 0, 512), "FUA not advertised");
    }

    @Test
    void commandsMustBeAdvertised() {
        ExportSession bare = session(TFLAG_HAS_FLAGS, 0);
        assertEquals(Rejection.NOT_ADVERTISED, check(bare, CMD_FLUSH, 0, 0, 0));
        assertEquals(Rejection.NOT_ADVERTISED, check(bare, CMD_TRIM, 0, 0, 512));
        assertEquals(Rejection.NOT_ADVERTISED, check(bare, CMD_WRITE_ZEROES, 0, 0, 512));
        assertEquals(Rejection.NOT_ADVERTISED, check(bare, CMD_CACHE, 0, 0, 512));
        assertEquals(Rejection.NO_META_CONTEXT, check(bare, CMD_BLOCK_STATUS, 0, 0, 512));
    }

    @Test
    void lengthsBeyondTheMaximumBlockSizeAreInvalidForPayloadCommands() {
        ExportSession s = session(RW | 1024 /* SEND_CACHE */, 0);
        assertEquals(Rejection.TOO_LARGE, check(s, CMD_READ, 0, 0, SIZES.maximum() + 512L));
        assertEquals(Rejection.TOO_LARGE, check(s, CMD_CACHE, 0, 0, SIZES.maximum() + 512L));
        assertEquals(Rejection.TOO_LARGE, RequestValidator.check(CMD_WRITE, 0, 0, 512, true, s),
                "the decoder skipped an oversized payload");
        // length hints and zeroing may exceed the maximum block size
        assertNull(check(s, CMD_TRIM, 0, 0, SIZE));
        assertNull(check(s, CMD_WRITE_ZEROES, 0, 0, SIZE));
    }

    @Test
    void misalignedRequestsAreInvalid() {
        ExportSession s = session(RW, 1);
        assertEquals(Rejection.MISALIGNED, check(s, CMD_READ, 0, 100, 512));
        assertEquals(Rejection.MISALIGNED, check(s, CMD_WRITE, 0, 0, 100));
        assertEquals(Rejection.MISALIGNED, check(s, CMD_BLOCK_STATUS, 0, 256, 512));
    }

    @Test
    void rangesPastTheEndGiveEnospcForWritesAndEinvalOtherwise() {
        ExportSession s = session(RW, 1);
        assertEquals(Rejection.OUT_OF_RANGE, check(s, CMD_READ, 0, SIZE, 512));
        assertEquals(Rejection.OUT_OF_RANGE, check(s, CMD_TRIM, 0, SIZE - 512, 1024));
        assertEquals(Rejection.OUT_OF_RANGE, check(s, CMD_BLOCK_STATUS, 0, SIZE, 512));
        assertEquals(Rejection.NO_SPACE, check(s, CMD_WRITE, 0, SIZE - 512, 1024));
        assertEquals(Rejection.NO_SPACE, check(s, CMD_WRITE_ZEROES, 0, SIZE, 512));
        assertEquals(28, Rejection.NO_SPACE.errno());
        // offsets of 2^63 and more, and sums that overflow 64 bits
        assertEquals(Rejection.OUT_OF_RANGE, check(s, CMD_READ, 0, 0xFFFF_FFFF_FFFF_FE00L, 512));
        assertEquals(Rejection.OUT_OF_RANGE, check(s, CMD_READ, 0, Long.MAX_VALUE - 511, 512));
        assertEquals(Rejection.OUT_OF_RANGE, check(s, CMD_TRIM, 0, 512, 0xFFFF_FE00L));
    }

    @Test
    void writesToAReadOnlyExportAreNotPermitted() {
        ExportSession ro = session(RW | TFLAG_READ_ONLY, 0);
        assertEquals(Rejection.READ_ONLY, check(ro, CMD_WRITE, 0, 0, 512));
        assertEquals(Rejection.READ_ONLY, check(ro, CMD_TRIM, 0, 0, 512));
        assertEquals(Rejection.READ_ONLY, check(ro, CMD_WRITE_ZEROES, 0, 0, 512));
        assertEquals(1, Rejection.READ_ONLY.errno());
        assertNull(check(ro, CMD_READ, 0, 0, 512));
        assertNull(check(ro, CMD_FLUSH, 0, 0, 0));
        // past the end is still ENOSPC (as nbdkit answers); TRIM and WRITE_ZEROES, not advertised on a read-only
        // session, are refused as writes, not as unknown commands
        assertEquals(Rejection.NO_SPACE, check(ro, CMD_WRITE, 0, SIZE, 512));
        ExportSession bare = session(TFLAG_HAS_FLAGS | TFLAG_READ_ONLY, 0);
        assertEquals(Rejection.READ_ONLY, check(bare, CMD_TRIM, 0, 0, 512));
        assertEquals(Rejection.READ_ONLY, check(bare, CMD_WRITE_ZEROES, 0, 0, 512));
    }

    @Test
    void zeroLengthBlockStatusIsInvalidOtherZeroLengthsAreNot() {
        ExportSession s = session(RW, 1);
        assertEquals(Rejection.EMPTY_BLOCK_STATUS, check(s, CMD_BLOCK_STATUS, 0, 0, 0));
        assertNull(check(s, CMD_WRITE, 0, 0, 0));
        assertNull(check(s, CMD_TRIM, 0, 0, 0));
    }

    @Test
    void flushIgnoresItsReservedFields() {
        assertNull(check(session(RW, 0), CMD_FLUSH, 0, 12345, 678));
    }
}
