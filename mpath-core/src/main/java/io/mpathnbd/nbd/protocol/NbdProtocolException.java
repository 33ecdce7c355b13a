package io.mpathnbd.nbd.protocol;

import io.netty.handler.codec.DecoderException;

/** Malformed NBD input from the peer: a bad magic, an impossible length, a payload that does not parse. */
public class NbdProtocolException extends DecoderException {
    public NbdProtocolException(String message) {
        super(message);
    }

    public NbdProtocolException(String message, Throwable cause) {
        super(message, cause);
    }
}
