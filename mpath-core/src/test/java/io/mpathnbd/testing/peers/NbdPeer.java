package io.mpathnbd.testing.peers;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.IntFunction;

/**
 * A running NBD server started by a test ({@link Nbdkit}, {@link NbdServer}, {@link QemuNbd}), listening on
 * 127.0.0.1. Gives its URI for the gateway or a client tool, and the fault switches: {@link #kill()} (a dead
 * backend: connections reset), {@link #stop()} / {@link #cont()} (a hung backend, connections stay open).
 */
public abstract class NbdPeer implements AutoCloseable {
    /** Every peer listens on loopback only. */
    public static final String HOST = "127.0.0.1";

    static final Duration START_TIMEOUT = Duration.ofSeconds(15);

    private final PeerProcess process;
    private final int port;
    private final String defaultExport;

    NbdPeer(PeerProcess process, int port, String defaultExport) {
        this.process = process;
        this.port = port;
        this.defaultExport = defaultExport;
    }

    public String host() {
        return HOST;
    }

    public int port() {
        return port;
    }

    /** The export a client should ask for by default ("" for nbdkit, which serves any name). */
    public String exportName() {
        return defaultExport;
    }

    /** {@code nbd://127.0.0.1:PORT/EXPORT} for the default export. */
    public String uri() {
        return uri(defaultExport);
    }

    /** {@code nbd://127.0.0.1:PORT/EXPORT}, the export name percent-encoded where needed. */
    public String uri(String exportName) {
        return "nbd://" + HOST + ":" + port + "/" + encode(exportName);
    }

    /** {@code nbds://127.0.0.1:PORT/EXPORT}: the default export over TLS (for a peer started with TLS). */
    public String tlsUri() {
        return "nbds" + uri().substring("nbd".length());
    }

    public PeerProcess process() {
        return process;
    }

    public long pid() {
        return process.pid();
    }

    public Path logFile() {
        return process.logFile();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** SIGKILL to the server and the children serving its clients: a dead backend. */
    public void kill() {
        process.kill();
    }

    /** SIGSTOP to the server and its children: a hung backend whose TCP connections stay open. */
    public void stop() {
        process.stop();
    }

    /** SIGCONT: undoes {@link #stop()}. */
    public void cont() {
        process.cont();
    }

    /** Kills the server if it runs and removes the files the fixture created itself. */
    @Override
    public void close() {
        process.close();
    }

    @Override
    public String toString() {
        return process.name() + "[" + uri() + " pid " + pid() + "]";
    }

    /** A started process and the port it listens on. */
    record Launched(PeerProcess process, int port) {
    }

    /**
     * Starts a server on {@code fixedPort}, or on a free port when it is 0, and waits until it listens. A free port
     * can be taken by someone else between choosing and binding it: then the server exits, and another port is tried.
     */
    static Launched launch(int fixedPort, IntFunction<PeerProcess> starter) {
        IllegalStateException last = null;
        for (int attempt = 0; attempt < (fixedPort > 0 ? 1 : 5); attempt++) {
            int port = fixedPort > 0 ? fixedPort : FreePort.next();
            PeerProcess p;
            try {
                p = starter.apply(port);
            } catch (IllegalStateException e) {
                last = e;
                continue;
            }
            try {
                p.waitForPort(HOST, port, START_TIMEOUT);
                // the probe may have reached another program that took the port: ours would be exiting now
                PeerProcess.sleep(30);
                if (p.isAlive()) {
                    return new Launched(p, port);
                }
                last = new IllegalStateException(p.name() + " exited right after starting on port " + port + ":\n"
                        + p.logTail());
            } catch (IllegalStateException e) {
                last = e;
            }
            p.close();
        }
        throw last;
    }

    static String encode(String exportName) {
        StringBuilder sb = new StringBuilder();
        for (byte b : exportName.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "-._~/".indexOf(c) >= 0) {
                sb.append(c);
            } else {
                sb.append('%').append(Character.toUpperCase(Character.forDigit((b >> 4) & 0xf, 16)))
                        .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
            }
        }
        return sb.toString();
    }
}
