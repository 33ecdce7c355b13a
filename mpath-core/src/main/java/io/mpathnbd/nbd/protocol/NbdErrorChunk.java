package io.mpathnbd.nbd.protocol;

import java.nio.charset.StandardCharsets;

/** ERROR (u32 error, u16 message length, message) or ERROR_OFFSET (the same plus u64 offset). */
public final class NbdErrorChunk extends NbdChunk {
    private final int error;
    private final String message;
    private final long offset;

    /** A plain ERROR chunk. */
    public NbdErrorChunk(int flags, long cookie, int error, String message) {
        super(flags, NbdConstants.REPLY_TYPE_ERROR, cookie, null);
        this.error = error;
        this.message = message == null ? "" : message;
        this.offset = -1;
    }

    /** An ERROR_OFFSET chunk. */
    public NbdErrorChunk(int flags, long cookie, int error, String message, long offset) {
        super(flags, NbdConstants.REPLY_TYPE_ERROR_OFFSET, cookie, null);
        this.error = error;
        this.message = message == null ? "" : message;
        this.offset = offset;
    }

    public int error() {
        return error;
    }

    public String message() {
        return message;
    }

    public boolean hasOffset() {
        return type() == NbdConstants.REPLY_TYPE_ERROR_OFFSET;
    }

    public long offset() {
        return offset;
    }

    @Override
    public int payloadLength() {
        return 6 + message.getBytes(StandardCharsets.UTF_8).length + (hasOffset() ? 8 : 0);
    }
}
