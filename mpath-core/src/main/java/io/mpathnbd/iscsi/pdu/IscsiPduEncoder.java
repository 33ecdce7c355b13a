package io.mpathnbd.iscsi.pdu;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.EncoderException;
import io.netty.handler.codec.MessageToMessageEncoder;
import java.util.List;

/**
 * Encodes the PDUs of one direction: the 48-byte header (plus its digest) in a small buffer of its own, the data
 * segment passed on retained (never copied), then a small trailer with the zero padding to a 4-byte boundary and the
 * data digest. Digests and the peer's segment limit come from the connection's {@link PduSettings} at the time each
 * PDU is encoded. A PDU of the other direction, data on a type that has none, or a segment above the peer's limit is
 * a bug and fails the write with EncoderException. One instance per channel (it keeps a CRC state).
 */
public final class IscsiPduEncoder extends MessageToMessageEncoder<IscsiPdu> {
    private final PduSettings settings;
    private final boolean initiator;
    private final Crc32c crc = new Crc32c();

    private IscsiPduEncoder(PduSettings settings, boolean initiator) {
        super(IscsiPdu.class);
        this.settings = settings;
        this.initiator = initiator;
    }

    /** The initiator's encoder: NOP-Out, SCSI Command, Task Management, Login, Text, Data-Out, Logout. */
    public static IscsiPduEncoder initiator(PduSettings settings) {
        return new IscsiPduEncoder(settings, true);
    }

    /** A target's encoder (for test targets): NOP-In, SCSI Response, ..., R2T, Asynchronous Message, Reject. */
    public static IscsiPduEncoder target(PduSettings settings) {
        return new IscsiPduEncoder(settings, false);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, IscsiPdu pdu, List<Object> out) {
        if (pdu.fromInitiator() != initiator) {
            throw new EncoderException(pdu + " cannot be sent by the " + (initiator ? "initiator" : "target"));
        }
        ByteBuf data = pdu.data();
        int length = data.readableBytes();
        if (length > 0 && !pdu.allowsData()) {
            throw new EncoderException(pdu + " carries a data segment its type does not have");
        }
        if (length > settings.maxSendDataSegmentLength()) {
            throw new EncoderException(pdu + " exceeds the peer's MaxRecvDataSegmentLength of "
                    + settings.maxSendDataSegmentLength());
        }
        boolean headerDigest = settings.headerDigest();
        ByteBuf header = ctx.alloc().ioBuffer(Opcodes.BHS_LENGTH + (headerDigest ? 4 : 0));
        try {
            pdu.writeBhs(header);
            if (headerDigest) {
                header.writeIntLE(crc.of(header, 0, Opcodes.BHS_LENGTH));
            }
        } catch (RuntimeException e) {
            header.release();
            throw e;
        }
        out.add(header);
        if (length == 0) {
            return;
        }
        out.add(data.retain());
        int pad = padding(length);
        boolean dataDigest = settings.dataDigest();
        if (pad > 0 || dataDigest) {
            ByteBuf trailer = ctx.alloc().ioBuffer(pad + (dataDigest ? 4 : 0));
            trailer.writeZero(pad);
            if (dataDigest) {
                trailer.writeIntLE(crc.reset().update(data, data.readerIndex(), length).updateZeroes(pad).value());
            }
            out.add(trailer);
        }
    }

    /** Zero bytes that follow a data segment of {@code length} bytes. */
    static int padding(int length) {
        return -length & 3;
    }
}
