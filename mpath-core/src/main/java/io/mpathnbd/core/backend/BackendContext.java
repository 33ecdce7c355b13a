package io.mpathnbd.core.backend;

import io.netty.channel.EventLoopGroup;
import java.util.Objects;

/**
 * Process-wide resources a driver may use: the event loops (shared with the front end, so a backend connection can
 * live on the same loop as the clients it serves) and the transport's socket channel type.
 */
public final class BackendContext {
    private final EventLoopGroup eventLoops;
    private final boolean epoll;

    public BackendContext(EventLoopGroup eventLoops, boolean epoll) {
        this.eventLoops = Objects.requireNonNull(eventLoops);
        this.epoll = epoll;
    }

    public EventLoopGroup eventLoops() {
        return eventLoops;
    }

    /** Whether the group is a native epoll group (then use EpollSocketChannel). */
    public boolean epoll() {
        return epoll;
    }
}
