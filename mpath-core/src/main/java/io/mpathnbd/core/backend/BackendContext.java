package io.mpathnbd.core.backend;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.util.Objects;

/**
 * Process-wide resources a driver may use: the event loops (shared with the front end, so a backend connection can
 * live on the same loop as the clients it serves) and the socket channel type that matches their transport (NIO,
 * native epoll or io_uring).
 */
public final class BackendContext {
    private static final String EPOLL_SOCKET_CHANNEL = "io.netty.channel.epoll.EpollSocketChannel";

    private final EventLoopGroup eventLoops;
    private final Class<? extends Channel> socketChannel;

    public BackendContext(EventLoopGroup eventLoops, Class<? extends Channel> socketChannel) {
        this.eventLoops = Objects.requireNonNull(eventLoops);
        this.socketChannel = Objects.requireNonNull(socketChannel);
    }

    /** For NIO groups ({@code epoll} false) and native epoll groups ({@code epoll} true). */
    public BackendContext(EventLoopGroup eventLoops, boolean epoll) {
        this(eventLoops, epoll ? epollSocketChannel() : NioSocketChannel.class);
    }

    public EventLoopGroup eventLoops() {
        return eventLoops;
    }

    /** The socket channel class for connections on {@link #eventLoops()}. */
    public Class<? extends Channel> socketChannel() {
        return socketChannel;
    }

    /**
     * Loaded by name: mpath-core compiles without the epoll classes (they come with the native transport at run
     * time), and only an epoll event loop group, which has them, asks for it.
     */
    @SuppressWarnings("unchecked")
    private static Class<? extends Channel> epollSocketChannel() {
        try {
            return (Class<? extends Channel>) Class.forName(EPOLL_SOCKET_CHANNEL, true,
                    BackendContext.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("epoll requested, but " + EPOLL_SOCKET_CHANNEL
                    + " is not on the class path", e);
        }
    }
}
