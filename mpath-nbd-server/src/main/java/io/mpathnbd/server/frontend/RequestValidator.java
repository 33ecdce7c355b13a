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
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_TRIM;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_WRITE;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_WRITE_ZEROES;
import static io.mpathnbd.nbd.protocol.NbdConstants.TFLAG_READ_ONLY;
import static io.mpathnbd.nbd.protocol.NbdConstants.TFLAG_SEND_CACHE;
import static io.mpathnbd.nbd.protocol.NbdConstants.TFLAG_SEND_DF;
import static io.mpathnbd.nbd.protocol.NbdConstants.TFLAG_SEND_FAST_ZERO;
import static io.mpathnbd.nbd.protocol.NbdConstants.TFLAG_SEND_FLUSH;
import static io.mpathnbd.nbd.protocol.NbdConstants.TFLAG_SEND_FUA;
import static io.mpathnbd.nbd.protocol.NbdConstants.TFLAG_SEND_TRIM;
import static io.mpathnbd.nbd.protocol.NbdConstants.TFLAG_SEND_WRITE_ZEROES;

/**
 * The checks a transmission request must pass before it reaches the export, in a fixed order, each answered with the
 * error the NBD spec names (see {@link Rejection}). Pure: no state, no allocation. DISC never gets here.
 *
 * <p>Choices where the spec leaves room: FUA is accepted on every command once SEND_FUA is advertised (the spec says
 * so; clients do set it on reads); the maximum block size is enforced for the payload-bearing READ and WRITE and for
 * CACHE, while TRIM, WRITE_ZEROES and BLOCK_STATUS may be larger (like qemu-nbd and nbdkit, so that nbdcopy and
 * mkfs, which zero or discard large ranges, keep working); zero-length requests other than BLOCK_STATUS are valid
 * no-ops; TRIM and WRITE_ZEROES on a read-only export, which does not advertise them, get EPERM like WRITE.
 *
 * <p>With extended headers lengths are unsigned 64-bit (a {@code long} below zero is 2^63 or more), and only a WRITE
 * may carry PAYLOAD_LEN (no extension payload form is implemented); the decoder has already consumed the payload of
 * any other command that sets it, so that is answered with EINVAL and the connection goes on, as the spec asks. A
 * WRITE without the flag is served: its length is the payload length either way (qemu 10 sends it so). Their
 * WRITE_ZEROES may be longer than 2^31 - 1 bytes: the transmission handler does it in pieces.
 */
final class RequestValidator {
    /** Largest WRITE_ZEROES the core can carry (its length is a Java int). */
    static final long MAX_ZERO_LENGTH = Integer.MAX_VALUE;

    private RequestValidator() {
    }

    /** Null when the request may go to the export, else why not. */
    static Rejection check(int type, int flags, long offset, long length, boolean oversized, ExportSession s) {
        if (type < CMD_READ || type > CMD_BLOCK_STATUS) {
            return Rejection.UNKNOWN_COMMAND;
        }
        if (s.extendedHeaders() && (flags & CMD_FLAG_PAYLOAD_LEN) != 0) {
            if (type != CMD_WRITE) {
                return Rejection.UNEXPECTED_PAYLOAD;
            }
            flags &= ~CMD_FLAG_PAYLOAD_LEN;
        }
        if ((flags & ~allowedFlags(type, s.transmissionFlags())) != 0) {
            return Rejection.BAD_FLAGS;
        }
        Rejection unsupported = notAdvertised(type, s);
        if (unsupported != null) {
            return unsupported;
        }
        if (type == CMD_FLUSH) {
            // offset and length are reserved for FLUSH: nothing more to check
            return null;
        }
        long len = length;
        if (tooLarge(type, len, oversized, s.blockSizes(), s.extendedHeaders())) {
            return Rejection.TOO_LARGE;
        }
        if (!s.blockSizes().aligned(offset, len)) {
            return Rejection.MISALIGNED;
        }
        if (pastEnd(offset, len, s.size())) {
            return type == CMD_WRITE || type == CMD_WRITE_ZEROES ? Rejection.NO_SPACE : Rejection.OUT_OF_RANGE;
        }
        if (s.has(TFLAG_READ_ONLY) && (type == CMD_WRITE || type == CMD_TRIM || type == CMD_WRITE_ZEROES)) {
            return Rejection.READ_ONLY;
        }
        if (len == 0 && type == CMD_BLOCK_STATUS) {
            // a status reply needs at least one extent of non-zero length, which cannot lie within zero bytes
            return Rejection.EMPTY_BLOCK_STATUS;
        }
        return null;
    }

    /** The command flags the spec allows for {@code type} given what was advertised. */
    static int allowedFlags(int type, int transmissionFlags) {
        int allowed = (transmissionFlags & TFLAG_SEND_FUA) != 0 ? CMD_FLAG_FUA : 0;
        switch (type) {
            case CMD_READ:
                if ((transmissionFlags & TFLAG_SEND_DF) != 0) {
                    allowed |= CMD_FLAG_DF;
                }
                break;
            case CMD_WRITE_ZEROES:
                allowed |= CMD_FLAG_NO_HOLE;
                if ((transmissionFlags & TFLAG_SEND_FAST_ZERO) != 0) {
                    allowed |= CMD_FLAG_FAST_ZERO;
                }
                break;
            case CMD_BLOCK_STATUS:
                allowed |= CMD_FLAG_REQ_ONE;
                break;
            default:
                break;
        }
        return allowed;
    }

    private static Rejection notAdvertised(int type, ExportSession s) {
        switch (type) {
            case CMD_FLUSH:
                return s.has(TFLAG_SEND_FLUSH) ? null : Rejection.NOT_ADVERTISED;
            case CMD_TRIM:
                // read-only sessions do not offer TRIM and WRITE_ZEROES, yet refuse them as writes: EPERM
                return s.has(TFLAG_SEND_TRIM) || s.has(TFLAG_READ_ONLY) ? null : Rejection.NOT_ADVERTISED;
            case CMD_WRITE_ZEROES:
                return s.has(TFLAG_SEND_WRITE_ZEROES) || s.has(TFLAG_READ_ONLY) ? null : Rejection.NOT_ADVERTISED;
            case CMD_CACHE:
                return s.has(TFLAG_SEND_CACHE) ? null : Rejection.NOT_ADVERTISED;
            case CMD_BLOCK_STATUS:
                return s.hasMetaContext() ? null : Rejection.NO_META_CONTEXT;
            default:
                return null;
        }
    }

    private static boolean tooLarge(int type, long len, boolean oversized, BlockSizes sizes, boolean extended) {
        if (len < 0) {
            return type != CMD_TRIM && type != CMD_BLOCK_STATUS;
        }
        switch (type) {
            case CMD_WRITE:
                return oversized || len > sizes.maximum();
            case CMD_READ:
            case CMD_CACHE:
                return len > sizes.maximum();
            case CMD_WRITE_ZEROES:
                // an extended client's longer zero request is done in pieces; a compact one's is refused as before
                return !extended && len > MAX_ZERO_LENGTH;
            default:
                return false;
        }
    }

    /**
     * offset + len > size, without overflow; offsets and lengths of 2^63 and above (negative as long) are always past
     * the end.
     */
    static boolean pastEnd(long offset, long len, long size) {
        return offset < 0 || len < 0 || offset > size || len > size - offset;
    }
}
