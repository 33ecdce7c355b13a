package io.mpathnbd.iscsi.session;

import io.mpathnbd.iscsi.pdu.IscsiProtocolException;
import io.mpathnbd.iscsi.pdu.TextKeys;
import io.mpathnbd.iscsi.pdu.TextResponse;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.concurrent.CompletableFuture;

/**
 * One Text Request/Response exchange in full feature phase (SendTargets): gathers the text of every response until
 * the final one (the target sets C when a pair continues in the next PDU and leaves F clear while more follows),
 * then decodes it. Rare and small, so the text is copied into one heap buffer. Confined to the event loop.
 */
final class TextExchange {
    final int itt;
    final CompletableFuture<TextKeys> result = new CompletableFuture<>();
    private ByteBuf text = Unpooled.buffer(1024);

    TextExchange(int itt) {
        this.itt = itt;
    }

    /** Takes one response; true when it was the final one (the result is then complete). */
    boolean accept(TextResponse response) {
        ByteBuf d = response.data();
        text.writeBytes(d, d.readerIndex(), d.readableBytes());
        if (!response.isFinal()) {
            return false;
        }
        try {
            result.complete(TextKeys.decode(text));
        } catch (IscsiProtocolException e) {
            result.completeExceptionally(e);
        } finally {
            release();
        }
        return true;
    }

    void fail(Throwable cause) {
        release();
        result.completeExceptionally(cause);
    }

    private void release() {
        if (text != null) {
            text.release();
            text = null;
        }
    }
}
