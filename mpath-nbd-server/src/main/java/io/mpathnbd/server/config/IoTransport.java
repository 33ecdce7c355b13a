package io.mpathnbd.server.config;

import io.netty.channel.Channel;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import java.util.List;
import java.util.Locale;

/**
 * How the event loops talk to the kernel ({@code transport:}): Linux's native epoll, io_uring, or the JDK's NIO.
 * {@code auto} takes epoll where it loads (it measured ahead of io_uring and NIO here, BENCHMARKS.md), else NIO. A
 * transport that cannot load falls back to the next one with a log line saying why; the gateway never fails to
 * start for it.
 */
public enum IoTransport {
    AUTO, EPOLL, IO_URING, NIO;

    /** As the config reader normalises choices ('_' read as '-'): {@code io_uring} and {@code io-uring} both work. */
    public static final List<String> LABELS = List.of("auto", "epoll", "io-uring", "nio");

    /** The name in logs and docs: {@code auto}, {@code epoll}, {@code io_uring}, {@code nio}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** From a label as {@link Section#oneOf} returns it (or as {@link #label()} gives it). */
    public static IoTransport of(String label) {
        return valueOf(label.toUpperCase(Locale.ROOT).replace('-', '_'));
    }

    /** Whether this transport loads on this machine ({@code auto} always does). */
    public boolean available() {
        return switch (this) {
            case AUTO, NIO -> true;
            case EPOLL -> Epoll.isAvailable();
            case IO_URING -> IoUring.isAvailable();
        };
    }

    /** Why this transport does not load here, or null when it does. */
    public String unavailabilityCause() {
        Throwable cause = switch (this) {
            case AUTO, NIO -> null;
            case EPOLL -> Epoll.isAvailable() ? null : Epoll.unavailabilityCause();
            case IO_URING -> IoUring.isAvailable() ? null : IoUring.unavailabilityCause();
        };
        if (cause == null) {
            return available() ? null : "not available";
        }
        return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    }

    /** The transport that runs for this request: itself, else epoll, else NIO. Never {@code auto}. */
    public IoTransport resolve() {
        if (this != AUTO && available()) {
            return this;
        }
        return EPOLL.available() ? EPOLL : NIO;
    }

    public IoHandlerFactory handlerFactory() {
        return switch (this) {
            case EPOLL -> EpollIoHandler.newFactory();
            case IO_URING -> IoUringIoHandler.newFactory();
            case NIO -> NioIoHandler.newFactory();
            case AUTO -> throw new IllegalStateException("resolve() first");
        };
    }

    public Class<? extends ServerChannel> serverChannel() {
        return switch (this) {
            case EPOLL -> EpollServerSocketChannel.class;
            case IO_URING -> IoUringServerSocketChannel.class;
            case NIO -> NioServerSocketChannel.class;
            case AUTO -> throw new IllegalStateException("resolve() first");
        };
    }

    public Class<? extends Channel> socketChannel() {
        return switch (this) {
            case EPOLL -> EpollSocketChannel.class;
            case IO_URING -> IoUringSocketChannel.class;
            case NIO -> NioSocketChannel.class;
            case AUTO -> throw new IllegalStateException("resolve() first");
        };
    }
}
