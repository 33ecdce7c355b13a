package io.mpathnbd.iscsi.pdu;

import io.mpathnbd.core.buffer.PayloadCollector;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Decodes the PDUs of one direction from a byte stream split anywhere. The header (BHS, skipped AHS, header digest)
 * is gathered into a reusable buffer of its own, so a header split between reads never makes the cumulation copy.
 * A data segment that is all there becomes a retained slice of the receive buffer; one that spans reads is gathered
 * piece by piece as it arrives ({@link PayloadCollector}), so the cumulation is always drained: it never has to grow
 * or be copied while earlier slices pin it (segments are bounded by the MaxRecvDataSegmentLength this side
 * declared, 256 KiB by default, so the segments of large reads often span socket reads). Checks: the opcode
 * belongs to the direction, reserved bits, digests when enabled, the segment limit, and each type's own rules.
 * Every violation throws {@link IscsiProtocolException} and discards the rest of the stream: the owner must drop
 * the connection.
 *
 * <p>Emits at most one PDU per decode step, so a handler that changes the {@link PduSettings} on the final Login
 * Response has done so before the next PDU's bytes are parsed.
 */
public final class IscsiPduDecoder extends ByteToMessageDecoder {
    private static final int MAX_AHS_LENGTH = 255 * 4;

    private enum State { HEADER, DATA, FAILED }

    private final PduSettings settings;
    private final boolean initiator;
    private final Crc32c crc = new Crc32c();
    /** BHS, AHS and header digest of the PDU being received. Heap, not pooled, reused for every PDU. */
    private final ByteBuf header = Unpooled.wrappedBuffer(new byte[Opcodes.BHS_LENGTH + MAX_AHS_LENGTH + 4]).clear();
    /** Padding and data digest of a segment that spanned reads. */
    private final ByteBuf trailer = Unpooled.wrappedBuffer(new byte[3 + 4]).clear();
    private final PayloadCollector payload = new PayloadCollector();
    private State state = State.HEADER;
    private int dataLength;
    /** Bytes of the data segment not received yet; below dataLength once gathering has started. */
    private int dataRemaining;
    private boolean dataDigest;

    private IscsiPduDecoder(PduSettings settings, boolean initiator) {
        this.settings = settings;
        this.initiator = initiator;
    }

    /** The initiator's decoder: accepts target PDUs only. */
    public static IscsiPduDecoder initiator(PduSettings settings) {
        return new IscsiPduDecoder(settings, true);
    }

    /** A target's decoder (for test targets): accepts initiator PDUs only. */
    public static IscsiPduDecoder target(PduSettings settings) {
        return new IscsiPduDecoder(settings, false);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        switch (state) {
            case HEADER:
                if (!fill(in, Opcodes.BHS_LENGTH)) {
                    return;
                }
                boolean headerDigest = settings.headerDigest();
                int headerLength = Opcodes.BHS_LENGTH + header.getUnsignedByte(4) * 4;
                if (!fill(in, headerLength + (headerDigest ? 4 : 0))) {
                    return;
                }
                if (headerDigest) {
                    int expected = crc.of(header, 0, headerLength);
                    int received = header.getIntLE(headerLength);
                    if (expected != received) {
                        throw fail(in, "header digest mismatch: received 0x" + Integer.toHexString(received)
                                + ", computed 0x" + Integer.toHexString(expected));
                    }
                }
                checkOpcode(in);
                dataLength = header.getUnsignedMedium(5);
                if (dataLength > settings.maxRecvDataSegmentLength()) {
                    throw fail(in, Opcodes.name(header.getByte(0) & 0x3f) + " with a data segment of " + dataLength
                            + " bytes exceeds MaxRecvDataSegmentLength " + settings.maxRecvDataSegmentLength());
                }
                if (dataLength == 0) {
                    emit(in, Unpooled.EMPTY_BUFFER, out);
                    return;
                }
                dataDigest = settings.dataDigest();
                dataRemaining = dataLength;
                state = State.DATA;
                // fall through: the data may already be here
            case DATA:
                int pad = IscsiPduEncoder.padding(dataLength);
                int trailerLength = pad + (dataDigest ? 4 : 0);
                if (dataRemaining == dataLength && in.readableBytes() >= dataLength + trailerLength) {
                    emitWhole(in, pad, out);
                    return;
                }
                if (!in.isReadable()) {
                    return;
                }
                if (dataRemaining == dataLength) {
                    if (dataDigest) {
                        crc.reset();
                    }
                    if (dataLength > 0) {
                        payload.start(dataLength);
                    }
                }
                if (dataRemaining > 0) {
                    int n = Math.min(dataRemaining, in.readableBytes());
                    if (dataDigest) {
                        crc.update(in, in.readerIndex(), n);
                    }
                    payload.take(ctx.alloc(), in);
                    dataRemaining -= n;
                    if (dataRemaining > 0) {
                        return;
                    }
                }
                int missing = trailerLength - trailer.writerIndex();
                int n = Math.min(missing, in.readableBytes());
                in.readBytes(trailer, n);
                if (n < missing) {
                    return;
                }
                if (dataDigest) {
                    checkDataDigest(in, crc.update(trailer, 0, pad).value(), trailer.getIntLE(pad));
                }
                trailer.clear();
                emit(in, payload.finish(ctx.alloc()), out);
                return;
            case FAILED:
            default:
                in.skipBytes(in.readableBytes());
        }
    }

    /** The common case: the segment, its padding and its digest are all in {@code in}. */
    private void emitWhole(ByteBuf in, int pad, List<Object> out) {
        int start = in.readerIndex();
        if (dataDigest) {
            checkDataDigest(in, crc.of(in, start, dataLength + pad), in.getIntLE(start + dataLength + pad));
        }
        ByteBuf data = in.retainedSlice(start, dataLength);
        in.skipBytes(dataLength + pad + (dataDigest ? 4 : 0));
        emit(in, data, out);
    }

    private void checkDataDigest(ByteBuf in, int expected, int received) {
        if (expected != received) {
            throw fail(in, "data digest mismatch on " + Opcodes.name(header.getByte(0) & 0x3f)
                    + ": received 0x" + Integer.toHexString(received) + ", computed 0x"
                    + Integer.toHexString(expected));
        }
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        payload.discard();
    }

    private void checkOpcode(ByteBuf in) {
        int b0 = header.getUnsignedByte(0);
        int opcode = b0 & 0x3f;
        if ((b0 & 0x80) != 0) {
            throw fail(in, "reserved bit 7 set on opcode byte 0x" + Integer.toHexString(b0));
        }
        if (initiator ? !Opcodes.isTargetOpcode(opcode) : !Opcodes.isInitiatorOpcode(opcode)) {
            throw fail(in, Opcodes.name(opcode) + " is not a " + (initiator ? "target" : "initiator") + " PDU");
        }
        if (initiator && (b0 & Opcodes.IMMEDIATE) != 0) {
            throw fail(in, Opcodes.name(opcode) + " with the immediate bit set");
        }
    }

    /** Builds the PDU from the header and its data (ownership passes to the PDU, or released on failure). */
    private void emit(ByteBuf in, ByteBuf data, List<Object> out) {
        IscsiPdu pdu;
        try {
            pdu = read(header, data);
        } catch (IscsiProtocolException e) {
            data.release();
            throw fail(in, e.getMessage());
        }
        header.clear();
        state = State.HEADER;
        out.add(pdu);
    }

    private static IscsiPdu read(ByteBuf h, ByteBuf data) {
        int b0 = h.getUnsignedByte(0);
        boolean immediate = (b0 & Opcodes.IMMEDIATE) != 0;
        switch (b0 & 0x3f) {
            case Opcodes.NOP_OUT: return NopOut.read(h, immediate, data);
            case Opcodes.SCSI_COMMAND: return ScsiCommand.read(h, immediate, data);
            case Opcodes.TASK_MANAGEMENT_REQUEST: return TaskManagementRequest.read(h, immediate, data);
            case Opcodes.LOGIN_REQUEST: return LoginRequest.read(h, immediate, data);
            case Opcodes.TEXT_REQUEST: return TextRequest.read(h, immediate, data);
            case Opcodes.DATA_OUT: return DataOut.read(h, immediate, data);
            case Opcodes.LOGOUT_REQUEST: return LogoutRequest.read(h, immediate, data);
            case Opcodes.NOP_IN: return NopIn.read(h, data);
            case Opcodes.SCSI_RESPONSE: return ScsiResponse.read(h, data);
            case Opcodes.TASK_MANAGEMENT_RESPONSE: return TaskManagementResponse.read(h, data);
            case Opcodes.LOGIN_RESPONSE: return LoginResponse.read(h, data);
            case Opcodes.TEXT_RESPONSE: return TextResponse.read(h, data);
            case Opcodes.DATA_IN: return DataIn.read(h, data);
            case Opcodes.LOGOUT_RESPONSE: return LogoutResponse.read(h, data);
            case Opcodes.R2T: return ReadyToTransfer.read(h, data);
            case Opcodes.ASYNC_MESSAGE: return AsyncMessage.read(h, data);
            case Opcodes.REJECT: return Reject.read(h, data);
            default: throw new IscsiProtocolException("unexpected " + Opcodes.name(b0 & 0x3f));
        }
    }

    /** Moves header bytes out of {@code in} until {@link #header} holds {@code need}; false if they have not all come. */
    private boolean fill(ByteBuf in, int need) {
        int missing = need - header.writerIndex();
        if (missing <= 0) {
            return true;
        }
        int n = Math.min(missing, in.readableBytes());
        in.readBytes(header, n);
        return n == missing;
    }

    private IscsiProtocolException fail(ByteBuf in, String message) {
        state = State.FAILED;
        payload.discard();
        in.skipBytes(in.readableBytes());
        return new IscsiProtocolException(message);
    }
}
