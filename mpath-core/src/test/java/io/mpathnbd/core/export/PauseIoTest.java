package io.mpathnbd.core.export;

import static io.mpathnbd.core.support.TestRig.path;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.AccessState;
import io.mpathnbd.core.request.BlockOp;
import io.mpathnbd.core.support.Await;
import io.mpathnbd.core.support.FaultInjectingDriver;
import io.mpathnbd.core.support.Outcome;
import io.mpathnbd.core.support.TestClient;
import io.mpathnbd.core.support.TestRig;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Export.pauseIo: nothing is sent while paused (writes, reads, FLUSH), every request is held, and the last resume
 * sends them; a held request keeps its no-path deadline. Over real file paths.
 */
class PauseIoTest {
    private static final int MIB = 1 << 20;

    @TempDir
    java.nio.file.Path dir;

    private TestRig rig;
    private final List<FaultInjectingDriver> drivers = new ArrayList<>();
    private TestClient c;

    @AfterEach
    void tearDown() throws Exception {
        rig.close();
        if (c != null) {
            c.assertNoDuplicateAnswers();
            c.assertPayloadsReleased();
        }
    }

    private Export start() throws Exception {
        rig = new TestRig(dir);
        java.nio.file.Path img = rig.image("disk.img", 4 * MIB);
        Export e = rig.export(TestRig.fastConfig("paused"));
        for (int i = 0; i < 2; i++) {
            FaultInjectingDriver f = rig.faulty(img);
            drivers.add(f);
            e.addPath(path("p" + i, 0, AccessState.OPTIMIZED), f);
        }
        TestRig.startLive(e);
        c = new TestClient(e);
        return e;
    }

    private long served(BlockOp op) {
        return drivers.stream().mapToLong(d -> d.servedCount(op)).sum();
    }

    @Test
    void nothingIsSentWhilePausedAndTheLastResumeSendsEverything() throws Exception {
        Export e = start();
        TestClient.ok(c.write(0, new byte[4096]));
        long writes = served(BlockOp.WRITE);
        long flushes = served(BlockOp.FLUSH);
        e.pauseIo();
        e.pauseIo(); // nested: only the last resume ends it
        CompletableFuture<Outcome> write = c.write(4096, new byte[4096]);
        CompletableFuture<Outcome> read = c.read(0, 4096);
        CompletableFuture<Outcome> flush = c.flush();
        Await.until("three requests held", () -> e.held() == 3);
        assertEquals(writes, served(BlockOp.WRITE), "no write sent while paused");
        assertEquals(flushes, served(BlockOp.FLUSH), "no flush sent while paused");
        assertEquals(0, e.inFlight());
        e.resumeIo();
        assertFalse(write.isDone() || read.isDone() || flush.isDone(), "one pause is still on");
        assertEquals(3, e.held());
        e.resumeIo();
        TestClient.ok(write);
        TestClient.ok(read);
        TestClient.ok(flush);
        assertEquals(0, e.held());
        assertTrue(served(BlockOp.WRITE) > writes && served(BlockOp.FLUSH) > flushes);
    }

    @Test
    void aHeldRequestKeepsItsNoPathDeadline() throws Exception {
        Export e = start();
        e.pauseIo();
        Outcome o = TestClient.await(c.read(0, 4096));
        assertTrue(!o.ok() && o.message().contains("no-path-timeout"), o.toString());
        e.resumeIo();
        TestClient.ok(c.read(0, 4096));
    }
}
