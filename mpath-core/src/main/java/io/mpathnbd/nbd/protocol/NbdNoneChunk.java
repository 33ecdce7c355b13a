package io.mpathnbd.nbd.protocol;

/** NONE: an empty final chunk, ending a reply. */
public final class NbdNoneChunk extends NbdChunk {
    public NbdNoneChunk(long cookie) {
        super(NbdConstants.REPLY_FLAG_DONE, NbdConstants.REPLY_TYPE_NONE, cookie, null);
    }

    @Override
    public int payloadLength() {
        return 0;
    }
}
