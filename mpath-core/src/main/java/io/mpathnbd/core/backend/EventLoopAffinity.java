package io.mpathnbd.core.backend;

import io.netty.util.concurrent.EventExecutor;

/**
 * Optional interface of a {@link BackendSession} whose I/O all runs on one event loop (iSCSI: one connection). A
 * request from another thread hops to that loop and its reply hops back, so the numa policy, between equally near
 * paths, takes the one on the caller's loop. Sessions with a connection on every loop (NBD) do not implement it.
 */
public interface EventLoopAffinity {

    /** The loop the session's connection runs on; fixed for the session's life. */
    EventExecutor eventLoop();
}
