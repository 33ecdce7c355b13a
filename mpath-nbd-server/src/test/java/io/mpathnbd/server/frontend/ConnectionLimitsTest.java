package io.mpathnbd.server.frontend;

import static io.mpathnbd.nbd.protocol.NbdConstants.CLIENT_FLAG_FIXED_NEWSTYLE;
import static io.mpathnbd.nbd.protocol.NbdConstants.CLIENT_FLAG_NO_ZEROES;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_READ;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.export.ExportConfig;
import io.mpathnbd.core.observe.ExportObserver;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.nbd.protocol.NbdConstants;
import io.mpathnbd.testing.peers.Images;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Connection-level limits and lifecycle: connection count, idle timeout, backpressure, close(). */
class ConnectionLimitsTest {
    private static final int BOTH_FLAGS = CLIENT_FLAG_FIXED_NEWSTYLE | CLIENT_FLAG_NO_ZEROES;

    @TempDir
    java.nio.file.Path dir;

    private static FrontendLimits limits(Duration idle, int maxConnections) {
        FrontendLimits d = FrontendLimits.defaults();
        return d.withIdleTimeout(idle).withConnections(maxConnections, 0);
    }

    @Test
    void connectionsBeyondTheLimitAreClosedAtOnce() throws Exception {
        try (FrontendFixture fx = new FrontendFixture()) {
            fx.fileExport("disk", Images.sparse(dir, "disk.img", 1 << 20));
            fx.start(limits(Duration.ZERO, 2));
            try (RawNbdClient first = RawNbdClient.attach(fx.address(), "disk", false, false);
                    RawNbdClient second = RawNbdClient.handshake(fx.address(), BOTH_FLAGS)) {
                try (RawNbdClient third = RawNbdClient.connect(fx.address())) {
                    assertTrue(third.closedByServer(Duration.ofSeconds(5)));
                }
                assertTrue(fx.observer.protocolErrors.contains("max-connections"));
                second.sendOption(NbdConstants.OPT_ABORT, new byte[0]);
                assertEquals(NbdConstants.REP_ACK, second.readOptionReply().type());
                first.sendRequest(0, CMD_READ, 1, 0, 512, null);
                assertEquals(0, first.readReply(512).error(), "the connections within the limit are unaffected");
            }
            awaitConnections(fx, 0);
            try (RawNbdClient again = RawNbdClient.attach(fx.address(), "disk", false, false)) {
                again.sendRequest(0, CMD_READ, 1, 0, 512, null);
                assertEquals(0, again.readReply(512).error());
            }
        }
    }

    @Test
    void aClientThatStopsInTheMiddleOfAWritePayloadIsClosedOthersAreServed() throws Exception {
        try (FrontendFixture fx = new FrontendFixture()) {
            fx.fileExport("disk", Images.sparse(dir, "disk.img", 1 << 20));
            fx.start(limits(Duration.ZERO, 16).withPayloadTimeout(Duration.ofMillis(500)));
            try (RawNbdClient stalled = RawNbdClient.attach(fx.address(), "disk", false, false);
                    RawNbdClient other = RawNbdClient.attach(fx.address(), "disk", false, false)) {
                byte[] request = RawNbdClient.requestBytes(0, NbdConstants.CMD_WRITE, 1, 0, 4096, new byte[4096]);
                stalled.write(java.util.Arrays.copyOf(request, 28 + 100)); // the header and 100 of 4096 bytes
                assertTrue(stalled.closedByServer(Duration.ofSeconds(10)), "the half-sent write is given up");
                assertTrue(fx.observer.protocolErrors.contains("payload-timeout"));
                other.sendRequest(0, CMD_READ, 2, 0, 512, null);
                assertEquals(0, other.readReply(512).error(), "an idle client is not a stalled one");
            }
        }
    }

    @Test
    void aWritePayloadSentSlowlyWithinTheBoundIsServed() throws Exception {
        try (FrontendFixture fx = new FrontendFixture()) {
            fx.fileExport("disk", Images.sparse(dir, "disk.img", 1 << 20));
            fx.start(limits(Duration.ZERO, 16).withPayloadTimeout(Duration.ofSeconds(30)));
            try (RawNbdClient c = RawNbdClient.attach(fx.address(), "disk", false, false)) {
                byte[] payload = new byte[4096];
                java.util.Arrays.fill(payload, (byte) 0x3c);
                byte[] request = RawNbdClient.requestBytes(0, NbdConstants.CMD_WRITE, 7, 4096, 4096, payload);
                for (int at = 0; at < request.length; at += 1024) {
                    c.write(java.util.Arrays.copyOfRange(request, at, Math.min(request.length, at + 1024)));
                    Thread.sleep(50);
                }
                assertEquals(0, c.readReply(0).error());
                c.sendRequest(0, CMD_READ, 8, 4096, 4096, null);
                assertArrayEquals(payload, c.readReply(4096).data());
            }
        }
    }

    @Test
    void connectionsPerClientAddressAreLimitedOtherAddressesAreNot() throws Exception {
        java.net.InetAddress a = java.net.InetAddress.getByName("127.0.0.2");
        java.net.InetAddress b = java.net.InetAddress.getByName("127.0.0.3");
        try (FrontendFixture fx = new FrontendFixture()) {
            fx.fileExport("disk", Images.sparse(dir, "disk.img", 1 << 20));
            fx.start(limits(Duration.ZERO, 16).withConnections(16, 2));
            try (RawNbdClient a1 = RawNbdClient.connectFrom(fx.address(), a);
                    RawNbdClient a2 = RawNbdClient.connectFrom(fx.address(), a)) {
                a1.readGreeting();
                a2.readGreeting();
                try (RawNbdClient a3 = RawNbdClient.connectFrom(fx.address(), a)) {
                    assertTrue(a3.closedByServer(Duration.ofSeconds(5)), "a third connection from 127.0.0.2");
                }
                assertTrue(fx.observer.protocolErrors.contains("max-connections-per-address"));
                try (RawNbdClient b1 = RawNbdClient.connectFrom(fx.address(), b)) {
                    assertEquals(NbdConstants.FLAG_FIXED_NEWSTYLE | NbdConstants.FLAG_NO_ZEROES, b1.readGreeting(),
                            "another address is served");
                }
            }
            awaitConnections(fx, 0);
            try (RawNbdClient again = RawNbdClient.connectFrom(fx.address(), a)) {
                assertEquals(NbdConstants.FLAG_FIXED_NEWSTYLE | NbdConstants.FLAG_NO_ZEROES, again.readGreeting(),
                        "closed connections give their slots back");
            }
        }
    }

    @Test
    void idleConnectionsAreClosedBusyOnesAreNot() throws Exception {
        try (FrontendFixture fx = new FrontendFixture()) {
            fx.fileExport("disk", Images.sparse(dir, "disk.img", 1 << 20));
            fx.start(limits(Duration.ofMillis(600), 16));
            try (RawNbdClient busy = RawNbdClient.attach(fx.address(), "disk", false, false);
                    RawNbdClient idle = RawNbdClient.attach(fx.address(), "disk", false, false)) {
                for (int i = 0; i < 10; i++) {
                    busy.sendRequest(0, CMD_READ, i, 0, 512, null);
                    assertEquals(0, busy.readReply(512).error());
                    Thread.sleep(200);
                }
                assertTrue(idle.closedByServer(Duration.ofSeconds(5)));
                busy.sendRequest(0, CMD_READ, 99, 0, 512, null);
                assertEquals(99, busy.readReply(512).cookie());
            }
            assertTrue(fx.observer.protocolErrors.contains("idle-timeout"));
        }
    }

    @Test
    void aClientThatDoesNotReadItsRepliesIsNotServedFurther() throws Exception {
        int length = 32 << 20;
        int requests = 40;
        AtomicInteger reads = new AtomicInteger();
        ExportObserver counting = new ExportObserver() {
            @Override
            public void requestCompleted(Path path, BlockOp op, int bytes, long nanos, boolean failed) {
                if (op == BlockOp.READ) {
                    reads.incrementAndGet();
                }
            }
        };
        try (FrontendFixture fx = new FrontendFixture()) {
            java.nio.file.Path image = Images.sparse(dir, "big.img", 1L << 30);
            fx.export(ExportConfig.defaults("big"), counting, "file:" + image, "file:" + image);
            fx.start(limits(Duration.ZERO, 16));
            try (RawNbdClient c = RawNbdClient.attach(fx.address(), "big", false, false)) {
                ByteArrayOutputStream burst = new ByteArrayOutputStream();
                for (int i = 0; i < requests; i++) {
                    burst.write(RawNbdClient.requestBytes(0, CMD_READ, i, (long) (i % 32) * length, length, null));
                }
                c.write(burst.toByteArray());
                // 40 x 32 MiB would be 1.3 GB held for this client: the server must stop long before
                int settled = awaitStable(reads, Duration.ofSeconds(1), Duration.ofSeconds(60));
                assertTrue(settled >= 1 && settled < 10, "reads served while the client read nothing: " + settled);
                Set<Long> cookies = new HashSet<>();
                byte[] zeroes = new byte[length];
                for (int i = 0; i < requests; i++) {
                    RawNbdClient.Reply r = c.readReply(length);
                    assertEquals(0, r.error());
                    assertArrayEquals(zeroes, r.data());
                    cookies.add(r.cookie());
                }
                assertEquals(requests, cookies.size(), "every request answered once the client reads");
            }
        }
    }

    @Test
    void closeEndsConnectionsAndStopsAccepting() throws Exception {
        try (FrontendFixture fx = new FrontendFixture()) {
            fx.fileExport("disk", Images.sparse(dir, "disk.img", 1 << 20));
            fx.start(limits(Duration.ZERO, 16));
            try (RawNbdClient attached = RawNbdClient.attach(fx.address(), "disk", false, false);
                    RawNbdClient negotiating = RawNbdClient.handshake(fx.address(), BOTH_FLAGS)) {
                fx.frontend().close().get(15, TimeUnit.SECONDS);
                assertTrue(attached.closedByServer(Duration.ofSeconds(5)));
                assertTrue(negotiating.closedByServer(Duration.ofSeconds(5)));
            }
            assertEquals(0, fx.frontend().activeConnections());
            assertThrows(IOException.class, () -> new Socket("127.0.0.1", fx.port()).close());
            assertEquals(fx.observer.opened.get(), fx.observer.closed.get());
            assertEquals(fx.observer.attached, fx.observer.detached);
            assertFalse(fx.observer.attached.isEmpty());
        }
    }

    /** Waits until {@code counter} has not changed for {@code quiet}; returns its value then. */
    static int awaitStable(AtomicInteger counter, Duration quiet, Duration max) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        int last = counter.get();
        long stableSince = System.nanoTime();
        while (System.nanoTime() < deadline) {
            Thread.sleep(50);
            int now = counter.get();
            if (now != last) {
                last = now;
                stableSince = System.nanoTime();
            } else if (System.nanoTime() - stableSince >= quiet.toNanos()) {
                return now;
            }
        }
        return counter.get();
    }

    static void awaitConnections(FrontendFixture fx, int expected) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (fx.frontend().activeConnections() != expected && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(expected, fx.frontend().activeConnections());
    }
}
