package io.mpathnbd.testing;

import io.mpathnbd.testing.peers.FreePort;
import io.mpathnbd.testing.peers.PeerDirs;
import io.mpathnbd.testing.peers.PeerProcess;
import io.mpathnbd.testing.peers.Tools;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real iSCSI target for tests: the Linux userspace target {@code tgtd -f} with its management socket
 * ({@code TGT_IPC_SOCKET}) in a private directory, so parallel tests never talk to each other's daemon.
 *
 * <p>It serves one target ({@link #IQN}, tid 1) with LUN 1 backed by the test's image file, open to every initiator,
 * on portal 0 = 127.0.0.1 and, by default, portal 1 = 127.0.0.2 (each on a free port). Fault switches: cut every
 * connection ({@link #dropConnections()}), take the target offline ({@link #offline()}/{@link #online()}), hang the
 * daemon ({@link #stop()}/{@link #resume()}).
 *
 * <pre>{@code
 * Path image = Images.sparse(tmp, "lun.img", 64 << 20);
 * try (Tgtd tgt = Tgtd.start(image)) { ... tgt.uri(0) ... tgt.uri(1) ... }
 * Tgtd.start(image, Tgtd.Options.defaults().blockSize(4096).chap("alice", "alice-secret1"));
 * }</pre>
 *
 * <p>tgtd falls back to 0.0.0.0:3260 when its configured portal cannot be bound; the fixture checks the portal list
 * and starts again on another port instead of ever serving on a port it did not choose.
 */
public final class Tgtd implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Tgtd.class);

    /** The default target name. */
    public static final String IQN = "iqn.2026-11.io.mpathnbd:test";

    private static final int TID = 1;
    private static final int LUN = 1;
    private static final int START_ATTEMPTS = 5;
    private static final Duration START_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration TGTADM_TIMEOUT = Duration.ofSeconds(20);

    /**
     * One iSCSI connection as tgtadm lists it.
     *
     * @param sid the target's session id (the {@code --sid} to delete it)
     * @param cid the connection id within the session
     * @param initiator the initiator's iSCSI name
     * @param address the initiator's IP address
     */
    public record Connection(long sid, long cid, String initiator, String address) {
    }

    /**
     * How to set up the target beyond the defaults: extra portals, the LUN's block size, CHAP (incoming: the
     * initiator proves itself) and mutual CHAP (outgoing: the target proves itself). Immutable; every setter returns
     * a copy.
     */
    public static final class Options {
        private int extraPortals = 1;
        private int blockSize = 512;
        private Account chap;
        private Account mutualChap;
        private Account discoveryChap;
        private Account discoveryMutualChap;

        private Options() {
        }

        private Options copy() {
            Options o = new Options();
            o.extraPortals = extraPortals;
            o.blockSize = blockSize;
            o.chap = chap;
            o.mutualChap = mutualChap;
            o.discoveryChap = discoveryChap;
            o.discoveryMutualChap = discoveryMutualChap;
            return o;
        }

        /** One extra portal (127.0.0.2), 512-byte blocks, no CHAP. */
        public static Options defaults() {
            return new Options();
        }

        /** Portals besides 127.0.0.1: portal i listens on 127.0.0.(i+1). */
        public Options extraPortals(int count) {
            if (count < 0 || count > 200) {
                throw new IllegalArgumentException("extra portals must be 0..200: " + count);
            }
            Options o = copy();
            o.extraPortals = count;
            return o;
        }

        /** The LUN's logical block size (tgtadm {@code --blocksize}): 512, 1024, 2048 or 4096. */
        public Options blockSize(int bytes) {
            if (bytes != 512 && bytes != 1024 && bytes != 2048 && bytes != 4096) {
                throw new IllegalArgumentException("block size must be 512, 1024, 2048 or 4096: " + bytes);
            }
            Options o = copy();
            o.blockSize = bytes;
            return o;
        }

        /** Requires CHAP: initiators must log in as {@code user} with {@code secret}. */
        public Options chap(String user, String secret) {
            Options o = copy();
            o.chap = new Account(user, secret);
            return o;
        }

        /** Mutual CHAP: the target answers the initiator's challenge as {@code user} with {@code secret}. */
        public Options mutualChap(String user, String secret) {
            Options o = copy();
            o.mutualChap = new Account(user, secret);
            return o;
        }

        /**
         * CHAP for discovery sessions (tgt's global incoming account): SendTargets needs {@code user} and
         * {@code secret}. Without it tgt answers discovery without authentication, whatever the target requires.
         */
        public Options discoveryChap(String user, String secret) {
            Options o = copy();
            o.discoveryChap = new Account(user, secret);
            return o;
        }

        /** Mutual CHAP for discovery sessions (tgt's global outgoing account). */
        public Options discoveryMutualChap(String user, String secret) {
            Options o = copy();
            o.discoveryMutualChap = new Account(user, secret);
            return o;
        }

        public int extraPortals() {
            return extraPortals;
        }

        public int blockSize() {
            return blockSize;
        }

        @Override
        public String toString() {
            return "extraPortals=" + extraPortals + ", blockSize=" + blockSize + ", chap=" + chap + ", mutualChap="
                    + mutualChap + ", discoveryChap=" + discoveryChap + ", discoveryMutualChap=" + discoveryMutualChap;
        }
    }

    /** A tgt account; the secret stays out of logs. */
    private record Account(String user, String secret) {
        Account {
            Objects.requireNonNull(user, "user");
            Objects.requireNonNull(secret, "secret");
        }

        @Override
        public String toString() {
            return user;
        }
    }

    private final PeerProcess process;
    private final Path dir;
    private final Path socket;
    private final List<InetSocketAddress> portals;
    private final Path image;
    private volatile boolean closed;

    private Tgtd(PeerProcess process, Path dir, Path socket, List<InetSocketAddress> portals, Path image) {
        this.process = process;
        this.dir = dir;
        this.socket = socket;
        this.portals = portals;
        this.image = image;
    }

    /** tgtd with the default {@link Options}: portals 127.0.0.1 and 127.0.0.2, LUN 1 = {@code image}. */
    public static Tgtd start(Path image) throws Exception {
        return start(image, Options.defaults());
    }

    /** Starts tgtd, sets up the target as {@code options} say, and returns once every portal accepts logins. */
    public static Tgtd start(Path image, Options options) throws Exception {
        Tools.require("tgtd", "tgtadm");
        Path lun = image.toAbsolutePath();
        if (!Files.isRegularFile(lun)) {
            throw new IllegalArgumentException("the LUN's image must be an existing file: " + lun);
        }
        // the system temporary directory keeps the socket path short (the kernel limits it to 107 bytes)
        Path dir = PeerDirs.create("tgtd");
        try {
            Tgtd tgt = launch(dir, lun);
            try {
                tgt.configure(options);
            } catch (Exception | Error e) {
                tgt.close();
                throw e;
            }
            LOG.info("tgtd pid {} serves {} LUN {} = {} on {} ({})", tgt.pid(), IQN, LUN, lun, tgt.portals, options);
            return tgt;
        } catch (Exception | Error e) {
            PeerDirs.deleteTree(dir);
            throw e;
        }
    }

    /** Portal {@code i}: 0 is 127.0.0.1:p0, 1 is 127.0.0.2:p1, ... */
    public InetSocketAddress portal(int i) {
        return portals.get(i);
    }

    /** How many portals the target listens on. */
    public int portalCount() {
        return portals.size();
    }

    /** {@code iscsi://127.0.0.X:P/IQN/1}: LUN 1 through portal {@code portal}. */
    public String uri(int portal) {
        InetSocketAddress a = portal(portal);
        return "iscsi://" + a.getHostString() + ":" + a.getPort() + "/" + IQN + "/" + LUN;
    }

    /** The LUN's backing file. */
    public Path image() {
        return image;
    }

    /** The private directory (management socket, log); removed by {@link #close()}. */
    public Path directory() {
        return dir;
    }

    /** The last few KiB of tgtd's log, for failure messages. */
    public String logTail() {
        return process.logTail();
    }

    public long pid() {
        return process.pid();
    }

    /**
     * Runs {@code tgtadm --lld iscsi ARGS} against this daemon and returns its standard output. Throws an
     * {@link IllegalStateException} with both outputs when tgtadm fails.
     */
    public String tgtadm(String... args) {
        Tools.Result r = runTgtadm(socket, args);
        if (!r.ok()) {
            throw new IllegalStateException("tgtadm failed: " + r.describe());
        }
        return r.stdout();
    }

    /** The connections of target 1 now ({@code tgtadm --op show --mode conn}). */
    public List<Connection> connections() {
        return parseConnections(tgtadm("--op", "show", "--mode", "conn", "--tid", Integer.toString(TID)));
    }

    /**
     * Deletes every connection of target 1: each initiator sees its TCP connection closed, as when a path is cut.
     * A connection that went away on its own meanwhile is not an error.
     */
    public void dropConnections() {
        for (Connection c : connections()) {
            Tools.Result r = runTgtadm(socket, "--op", "delete", "--mode", "conn", "--tid", Integer.toString(TID),
                    "--sid", Long.toString(c.sid()), "--cid", Long.toString(c.cid()));
            if (r.ok()) {
                LOG.info("tgtd pid {}: dropped connection sid {} cid {} of {} from {}", pid(), c.sid(), c.cid(),
                        c.initiator(), c.address());
            } else if (connections().contains(c)) {
                throw new IllegalStateException("cannot drop connection " + c + ": " + r.describe());
            }
        }
    }

    /** Sets target 1 offline: tgt refuses new logins to it with a target error (status 3/0). */
    public void offline() {
        setState("offline");
    }

    /** Undoes {@link #offline()}. */
    public void online() {
        setState("ready");
    }

    /** SIGSTOP: a hung target whose TCP connections stay open. */
    public void stop() {
        process.stop();
    }

    /** SIGCONT: undoes {@link #stop()}. */
    public void resume() {
        process.cont();
    }

    /** Kills tgtd (SIGKILL: SIGTERM did not stop it while it served a target), waits, removes its directory. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        process.close();
        PeerDirs.deleteTree(dir);
        LOG.info("tgtd pid {} closed", process.pid());
    }

    private void setState(String state) {
        tgtadm("--op", "update", "--mode", "target", "--tid", Integer.toString(TID), "--name", "state", "-v", state);
        LOG.info("tgtd pid {}: target {} state {}", pid(), IQN, state);
    }

    /**
     * Starts tgtd on a free port of 127.0.0.1 and waits for its management socket. Tries other ports when the chosen
     * one was taken meanwhile (tgtd then listens on its default portal instead, which is never acceptable here).
     */
    private static Tgtd launch(Path dir, Path image) {
        Path tgtd = Tools.which("tgtd");
        IllegalStateException last = null;
        for (int attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
            int port = FreePort.next();
            // a fresh socket name per attempt: a killed attempt leaves its socket file behind
            Path socket = dir.resolve("ipc" + attempt);
            Path log = dir.resolve("tgtd-" + attempt + ".log");
            // env passes the socket to tgtd and execs it, so the pid is tgtd's own
            PeerProcess p = PeerProcess.start("tgtd", log, List.of("env", "TGT_IPC_SOCKET=" + socket, tgtd.toString(),
                    "-f", "--iscsi", "portal=127.0.0.1:" + port));
            try {
                if (!awaitManagement(p, socket)) {
                    // e.g. the port was taken and so was the default tgtd falls back to
                    last = new IllegalStateException("tgtd (pid " + p.pid() + ") exited at start on port " + port
                            + "; log:\n" + p.logTail());
                    LOG.info("tgtd attempt {} on port {} exited at start, trying another port", attempt, port);
                    p.close();
                    continue;
                }
                String listed = runTgtadm(socket, "--op", "show", "--mode", "portal").stdout();
                List<String> lines = listed.lines().map(String::trim).filter(l -> !l.isEmpty()).toList();
                if (lines.equals(List.of("Portal: 127.0.0.1:" + port + ",1"))) {
                    List<InetSocketAddress> portals = new ArrayList<>();
                    portals.add(new InetSocketAddress("127.0.0.1", port));
                    return new Tgtd(p, dir, socket, portals, image);
                }
                last = new IllegalStateException("tgtd did not take portal 127.0.0.1:" + port + " (portals: " + lines
                        + "); log:\n" + p.logTail());
                LOG.info("tgtd attempt {}: portal 127.0.0.1:{} not taken, trying another port", attempt, port);
            } catch (RuntimeException | Error e) {
                p.close();
                throw e;
            }
            p.close();
        }
        throw last;
    }

    /** True once tgtd answers on its management socket; false if it exited first. */
    private static boolean awaitManagement(PeerProcess p, Path socket) {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            if (!p.isAlive()) {
                return false;
            }
            if (Files.exists(Path.of(socket + ".0"))) {
                Tools.Result r = runTgtadm(socket, "--op", "show", "--mode", "sys");
                if (r.ok()) {
                    return true;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("tgtd (pid " + p.pid() + ") does not answer tgtadm after "
                        + START_TIMEOUT + "; log:\n" + p.logTail());
            }
            sleep(20);
        }
    }

    private void configure(Options options) {
        for (int i = 1; i <= options.extraPortals; i++) {
            portals.add(addPortal("127.0.0." + (i + 1)));
        }
        String tid = Integer.toString(TID);
        tgtadm("--op", "new", "--mode", "target", "--tid", tid, "-T", IQN);
        List<String> lu = new ArrayList<>(List.of("--op", "new", "--mode", "logicalunit", "--tid", tid, "--lun",
                Integer.toString(LUN), "-b", image.toString()));
        if (options.blockSize != 512) {
            lu.addAll(List.of("--blocksize", Integer.toString(options.blockSize)));
        }
        tgtadm(lu.toArray(String[]::new));
        tgtadm("--op", "bind", "--mode", "target", "--tid", tid, "-I", "ALL");
        Map<String, String> accounts = new HashMap<>();
        addAccount(accounts, options.chap, TID, false);
        addAccount(accounts, options.mutualChap, TID, true);
        addAccount(accounts, options.discoveryChap, 0, false);
        addAccount(accounts, options.discoveryMutualChap, 0, true);
    }

    /** A portal on a free port of {@code host}; another port if that one was taken meanwhile. */
    private InetSocketAddress addPortal(String host) {
        Tools.Result r = null;
        for (int attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
            int port = FreePort.next();
            r = runTgtadm(socket, "--op", "new", "--mode", "portal", "--param", "portal=" + host + ":" + port);
            if (r.ok()) {
                return new InetSocketAddress(host, port);
            }
        }
        throw new IllegalStateException("tgtd cannot listen on " + host + ": " + r.describe() + "\nlog:\n" + logTail());
    }

    /** @param tid the target the account guards; 0 = the global account, which guards discovery sessions */
    private void addAccount(Map<String, String> created, Account account, int tid, boolean outgoing) {
        if (account == null) {
            return;
        }
        String user = account.user();
        String secret = account.secret();
        String known = created.putIfAbsent(user, secret);
        if (known != null && !known.equals(secret)) {
            throw new IllegalArgumentException("tgt account " + user + " is given two different secrets");
        }
        if (known == null) {
            Tools.Result r = runTgtadm(socket, "--op", "new", "--mode", "account", "--user", user, "--password",
                    secret);
            if (!r.ok()) {
                // the secret is on the command line: keep it out of the message
                throw new IllegalStateException("tgtadm cannot create account " + user + " (exit " + r.exitCode()
                        + "): " + r.stdout() + r.stderr());
            }
        }
        List<String> bind = new ArrayList<>(List.of("--op", "bind", "--mode", "account", "--user", user));
        if (tid != 0) {
            bind.addAll(List.of("--tid", Integer.toString(tid)));
        }
        if (outgoing) {
            bind.add("--outgoing");
        }
        tgtadm(bind.toArray(String[]::new));
    }

    private static Tools.Result runTgtadm(Path socket, String... args) {
        List<String> cmd = new ArrayList<>(List.of("tgtadm", "--lld", "iscsi"));
        cmd.addAll(List.of(args));
        return Tools.run(TGTADM_TIMEOUT, Map.of("TGT_IPC_SOCKET", socket.toString()), cmd.toArray(String[]::new));
    }

    /**
     * Parses {@code tgtadm --op show --mode conn} output:
     * <pre>
     * Session: 3
     *     Connection: 0
     *         Initiator: iqn.2010-11.libiscsi:iscsi-perf
     *         IP Address: 127.0.0.1
     * </pre>
     */
    static List<Connection> parseConnections(String output) {
        List<Connection> out = new ArrayList<>();
        long sid = -1;
        long cid = -1;
        String initiator = null;
        String address = null;
        for (String raw : output.split("\n")) {
            String line = raw.trim();
            if (line.startsWith("Session:")) {
                addConnection(out, sid, cid, initiator, address);
                sid = Long.parseLong(value(line));
                cid = -1;
                initiator = null;
                address = null;
            } else if (line.startsWith("Connection:")) {
                addConnection(out, sid, cid, initiator, address);
                cid = Long.parseLong(value(line));
                initiator = null;
                address = null;
            } else if (line.startsWith("Initiator:")) {
                String name = value(line);
                int alias = name.indexOf(" alias:");
                initiator = alias >= 0 ? name.substring(0, alias) : name;
            } else if (line.startsWith("IP Address:")) {
                address = value(line);
            }
        }
        addConnection(out, sid, cid, initiator, address);
        return List.copyOf(out);
    }

    private static void addConnection(List<Connection> out, long sid, long cid, String initiator, String address) {
        if (sid >= 0 && cid >= 0) {
            out.add(new Connection(sid, cid, initiator, address));
        }
    }

    private static String value(String line) {
        return line.substring(line.indexOf(':') + 1).trim();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public String toString() {
        return "tgtd[pid " + process.pid() + ", " + portals + "]";
    }
}
