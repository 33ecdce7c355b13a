package io.mpathnbd.iscsi.pdu;

import io.netty.handler.codec.DecoderException;

/**
 * The iSCSI peer broke RFC 7143: an opcode not valid in its direction, a digest mismatch, an oversized or malformed
 * segment, a broken Data-In sequence. The connection cannot be trusted afterwards and must be dropped.
 */
public class IscsiProtocolException extends DecoderException {
    public IscsiProtocolException(String message) {
        super(message);
    }
}
