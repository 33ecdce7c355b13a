package io.mpathnbd.server.frontend;

import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_DISC;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_READ;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mpathnbd.core.backend.Capability;
import io.mpathnbd.core.export.Export;
import io.mpathnbd.core.export.ExportConfig;
import io.mpathnbd.core.observe.ExportObserver;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.request.Errno;
import io.mpathnbd.core.support.Await;
import io.mpathnbd.testing.peers.Nbdkit;
import io.mpathnbd.testing.peers.Tools;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The front end over exports whose paths are NBD servers (nbdkit): block sizes the backend imposes, allocation
 * relayed as block status, DF reads, and shutdown while a slow request is in flight.
 */
class NbdBackedExportTest {
    private static final int SIZE = 16 << 20;
    private static final Duration TIMEOUT = Duration.ofSeconds(120);

    @Test
    void aLargerMinimumBlockSizeIsAdvertisedAndEnforced() throws Exception {
        Tools.require("nbdkit", "nbdsh", "nbdinfo");
        try (Nbdkit disk = Nbdkit.builder().memory(SIZE)
                .filter("blocksize-policy", "blocksize-minimum=4096", "blocksize-preferred=4096")
                .start();
                FrontendFixture fx = new FrontendFixture()) {
            Export export = fx.export(ExportConfig.defaults("aligned"), disk.uri(), disk.uri());
            assertEquals(4096, export.minBlockSize(), "the export takes the backend's minimum");
            fx.start();
            JsonNode info = new ObjectMapper().readTree(
                    Tools.run(TIMEOUT, "nbdinfo", "--json", fx.uri("aligned")).assertOk().stdout());
            assertEquals(4096, info.get("exports").get(0).get("block_size_minimum").asInt());
            for (String dialect : new String[] {"", "h.set_request_structured_replies(False)\n"
                    + "h.set_request_block_size(False)\n"}) {
                Nbdsh.check(fx.uri("aligned"), dialect + String.join("\n",
                        "h.set_strict_mode(0)",
                        "h.connect_uri(uri)",
                        "expect_errno(errno.EINVAL, h.pread, 512, 0)",
                        "expect_errno(errno.EINVAL, h.pread, 4096, 512)",
                        "expect_errno(errno.EINVAL, h.pwrite, b'x' * 4096, 100)",
                        "h.pwrite(b'y' * 8192, 4096)",
                        "assert h.pread(8192, 4096) == b'y' * 8192",
                        "h.shutdown()"));
            }
        }
    }

    @Test
    void allocationIsRelayedAndDfReadsComeInOneChunk() throws Exception {
        Tools.require("nbdkit", "nbdsh");
        try (Nbdkit disk = Nbdkit.memory(SIZE); FrontendFixture fx = new FrontendFixture()) {
            Export export = fx.export(ExportConfig.defaults("sparse"), disk.uri(), disk.uri());
            fx.start();
            boolean df = Capability.has(export.capabilities(), Capability.DF);
            Nbdsh.check(fx.uri("sparse"), String.join("\n",
                    "h.add_meta_context('base:allocation')",
                    "h.connect_uri(uri)",
                    "assert h.can_df() == " + (df ? "True" : "False"),
                    "h.pwrite(b'\\x11' * 65536, 1 << 20)",
                    "entries = []",
                    "def status(metacontext, offset, e, err):",
                    "    entries.extend(e)",
                    "    return 0",
                    "h.block_status(4 << 20, 0, status)",
                    "pairs = list(zip(entries[0::2], entries[1::2]))",
                    "assert sum(n for n, f in pairs[:-1]) < 4 << 20, pairs",
                    // the memory plugin knows where data is: a hole, the data, a hole
                    "assert pairs[0] == (1 << 20, 3), pairs",
                    "assert pairs[1] == (65536, 0), pairs",
                    "assert pairs[2][1] == 3, pairs",
                    "chunks = []",
                    "def chunk(buf, offset, st, err):",
                    "    chunks.append((offset, len(buf), st))",
                    "    return 0",
                    "flags = nbd.CMD_FLAG_DF if h.can_df() else 0",
                    "buf = h.pread_structured(1 << 20, (1 << 20) - 65536, chunk, flags)",
                    "assert buf == bytes(65536) + b'\\x11' * 65536 + bytes((1 << 20) - 131072)",
                    "assert len(chunks) == 1 and chunks[0][2] == nbd.READ_DATA, chunks",
                    "h.shutdown()"));
        }
    }

    @Test
    void shutdownAnswersLateRequestsWithEshutdownAndFinishesTheOnesInFlight() throws Exception {
        Tools.require("nbdkit");
        try (Nbdkit slow = Nbdkit.builder().memory(SIZE).delay(Duration.ofSeconds(2), null).start();
                FrontendFixture fx = new FrontendFixture()) {
            Export export = fx.export(ExportConfig.defaults("slow"), slow.uri());
            fx.start();
            try (RawNbdClient c = RawNbdClient.attach(fx.address(), "slow", false, false)) {
                c.sendRequest(0, CMD_READ, 1, 0, 4096, null);
                Await.until("the first read in flight at the backend", Duration.ofSeconds(10),
                        () -> export.paths().get(0).inFlight() == 1);
                // close() marks every connection shutting down before it returns, so the next request sees it
                CompletableFuture<Void> closed = fx.frontend().close();
                c.sendRequest(0, CMD_READ, 2, 0, 4096, null);
                Map<Long, Integer> errors = new HashMap<>();
                for (int i = 0; i < 2; i++) {
                    RawNbdClient.Reply r = c.readReply(4096);
                    errors.put(r.cookie(), r.error());
                }
                assertEquals(Map.of(1L, 0, 2L, Errno.ESHUTDOWN), errors);
                assertTrue(c.closedByServer(Duration.ofSeconds(5)));
                closed.get(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void discWaitsForASlowRequestThenCloses() throws Exception {
        Tools.require("nbdkit");
        try (Nbdkit slow = Nbdkit.builder().memory(SIZE).delay(Duration.ofMillis(1500), null).start();
                FrontendFixture fx = new FrontendFixture()) {
            fx.export(ExportConfig.defaults("slow"), slow.uri());
            fx.start();
            try (RawNbdClient c = RawNbdClient.attach(fx.address(), "slow", false, false)) {
                c.write(concat(RawNbdClient.requestBytes(0, CMD_READ, 1, 0, 4096, null),
                        RawNbdClient.requestBytes(0, CMD_DISC, 2, 0, 0, null)));
                RawNbdClient.Reply r = c.readReply(4096);
                assertEquals(1, r.cookie());
                assertEquals(0, r.error());
                assertTrue(c.closedByServer(Duration.ofSeconds(5)));
            }
        }
    }

    @Test
    void theIdleLimitSparesAConnectionWaitingForAReply() throws Exception {
        Tools.require("nbdkit");
        FrontendLimits d = FrontendLimits.defaults();
        FrontendLimits limits = d.withIdleTimeout(Duration.ofMillis(400));
        try (Nbdkit slow = Nbdkit.builder().memory(SIZE).delay(Duration.ofMillis(2000), null).start();
                FrontendFixture fx = new FrontendFixture()) {
            fx.export(ExportConfig.defaults("slow"), slow.uri());
            fx.start(limits);
            try (RawNbdClient c = RawNbdClient.attach(fx.address(), "slow", false, false)) {
                c.sendRequest(0, CMD_READ, 1, 0, 4096, null);
                RawNbdClient.Reply r = c.readReply(4096);
                assertEquals(1, r.cookie());
                assertEquals(0, r.error());
                assertTrue(c.closedByServer(Duration.ofSeconds(5)), "idle once the reply is out");
            }
        }
    }

    @Test
    void aReplyForAClientThatLeftIsReleased() throws Exception {
        Tools.require("nbdkit");
        AtomicInteger reads = new AtomicInteger();
        ExportObserver counting = new ExportObserver() {
            @Override
            public void requestCompleted(Path path, BlockOp op, int bytes, long nanos, boolean failed) {
                if (op == BlockOp.READ) {
                    reads.incrementAndGet();
                }
            }
        };
        try (Nbdkit slow = Nbdkit.builder().memory(SIZE).delay(Duration.ofMillis(800), null).start();
                FrontendFixture fx = new FrontendFixture()) {
            fx.export(ExportConfig.defaults("slow"), counting, slow.uri());
            fx.start();
            try (RawNbdClient c = RawNbdClient.attach(fx.address(), "slow", true, false)) {
                c.sendRequest(0, CMD_READ, 1, 0, 65536, null);
                c.sendRequest(0, CMD_READ, 2, 65536, 65536, null);
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (reads.get() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(2, reads.get(), "both reads completed after their client left");
            ConnectionLimitsTest.awaitConnections(fx, 0);
            // the data of both replies must have been released: the leak detector checks after this class
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
