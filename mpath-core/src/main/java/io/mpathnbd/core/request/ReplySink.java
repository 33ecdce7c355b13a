package io.mpathnbd.core.request;

import io.netty.buffer.ByteBuf;

/**
 * Where the core delivers a request's final outcome: implemented by the front end (one per client connection).
 * Exactly one of the two methods is called, once per request, from any thread.
 */
public interface ReplySink {
    /**
     * The request succeeded.
     *
     * @param data READ only: exactly {@code request.length()} bytes; ownership passes to the sink, which must release
     *     it. Null for every other operation.
     * @param extents BLOCK_STATUS only, else null.
     */
    void succeeded(BlockRequest request, ByteBuf data, Extents extents);

    /** The request failed with an error the client must see (a target error, or EIO when no path could serve it). */
    void failed(BlockRequest request, int errno, String message);
}
