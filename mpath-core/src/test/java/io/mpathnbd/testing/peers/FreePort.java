package io.mpathnbd.testing.peers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Free TCP ports on the loopback interface, for peers and gateways started by tests. */
public final class FreePort {
    private FreePort() {
    }

    /**
     * A port that was free on 127.0.0.1 a moment ago (the kernel picks it; it can be taken again before it is used,
     * which the peer fixtures handle by retrying with another port).
     */
    public static int next() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port", e);
        }
    }
}
