package io.mpathnbd.nbd.protocol;

/**
 * ERROR (u32 error, u16 message length, message) or ERROR_OFFSET (the same plus u64 offset). The message is cut to at
 * most {@link NbdConstants#MAX_STRING} bytes of UTF-8, the spec's limit for strings.
 */
public final class NbdErrorChunk extends NbdChunk {
    private final int error;
    private final String message;
    private final long offset;
    private final int messageLength;

    /** A plain ERROR chunk. */
    public NbdErrorChunk(int flags, long cookie, int error, String message) {
        super(flags, NbdConstants.REPLY_TYPE_ERROR, cookie, null);
        this.error = error;
        this.message = message == null ? "" : NbdStrings.truncate(message, NbdConstants.MAX_STRING);
        this.messageLength = NbdStrings.utf8Length(this.message);
        this.offset = -1;
    }

    /** An ERROR_OFFSET chunk. */
    public NbdErrorChunk(int flags, long cookie, int error, String message, long offset) {
        super(flags, NbdConstants.REPLY_TYPE_ERROR_OFFSET, cookie, null);
        this.error = error;
        this.message = message == null ? "" : NbdStrings.truncate(message, NbdConstants.MAX_STRING);
        this.messageLength = NbdStrings.utf8Length(this.message);
        this.offset = offset;
    }

    public int error() {
        return error;
    }

    public String message() {
        return message;
    }

    /** Length of the message in UTF-8 bytes, as on the wire. */
    public int messageLength() {
        return messageLength;
    }

    public boolean hasOffset() {
        return type() == NbdConstants.REPLY_TYPE_ERROR_OFFSET;
    }

    public long offset() {
        return offset;
    }

    @Override
    public int payloadLength() {
        return 6 + messageLength + (hasOffset() ? 8 : 0);
    }
}
