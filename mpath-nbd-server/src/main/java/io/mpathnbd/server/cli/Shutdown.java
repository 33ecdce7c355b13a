package io.mpathnbd.server.cli;

import java.util.concurrent.CountDownLatch;

/** Runs a cleanup on SIGINT/SIGTERM and lets the command's thread wait for it. */
final class Shutdown {
    private final CountDownLatch stopped = new CountDownLatch(1);

    private Shutdown() {
    }

    static Shutdown onSignal(Runnable cleanup) {
        Shutdown s = new Shutdown();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                cleanup.run();
            } finally {
                s.stopped.countDown();
            }
        }, "mpath-shutdown"));
        return s;
    }

    /** Blocks until the cleanup has run. */
    void await() throws InterruptedException {
        stopped.await();
    }
}
