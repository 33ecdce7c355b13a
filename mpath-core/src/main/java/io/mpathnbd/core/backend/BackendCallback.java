package io.mpathnbd.core.backend;

import io.mpathnbd.core.request.Extents;
import io.netty.buffer.ByteBuf;

/**
 * How a backend reports one submitted request. Exactly one method is called, exactly once, from any thread
 * (normally the backend connection's event loop).
 */
public interface BackendCallback {
    /**
     * @param data READ only: exactly the requested length, ownership passes to the callee (a retained slice of the
     *     backend's receive buffer, or a composite of slices and zero regions); null otherwise
     * @param extents BLOCK_STATUS only, else null
     */
    void succeeded(ByteBuf data, Extents extents);

    void failed(Failure failure);
}
