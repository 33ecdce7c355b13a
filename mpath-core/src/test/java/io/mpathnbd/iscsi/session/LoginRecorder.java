package io.mpathnbd.iscsi.session;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A transparent TCP relay in front of a real target that records both byte streams of every connection, so a test
 * can read what an initiator offered at login and what the target answered. Not a fake: both ends are real programs;
 * it is needed because libiscsi's debug output shows only the target's answers, never its own offers.
 */
final class LoginRecorder implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LoginRecorder.class);
    private static final int BHS = 48;
    private static final int OP_LOGIN_REQUEST = 0x03;
    private static final int OP_LOGIN_RESPONSE = 0x23;
    private static final int FLAG_TRANSIT = 0x80;
    private static final int FULL_FEATURE_PHASE = 3;

    /** The raw bytes one connection carried each way. */
    record Transcript(byte[] fromInitiator, byte[] fromTarget) {
    }

    /**
     * The first PDU after login in one direction: opcode, whether a valid CRC32C header digest followed its header,
     * its data length and (only when it has data) whether a valid data digest followed its data.
     */
    record FirstPdu(int opcode, boolean headerDigestValid, int dataLength, boolean dataDigestValid) {
    }

    /**
     * One login as seen on the wire: every key the initiator sent and every key the target sent (later values win; a
     * key split over continued PDUs is joined), whether the target moved to full feature phase, and the first PDU
     * each side sent afterwards (null when there was none).
     */
    record LoginExchange(Map<String, String> initiatorKeys, Map<String, String> targetKeys, boolean fullFeature,
            FirstPdu initiatorFirst, FirstPdu targetFirst) {
    }

    private final ServerSocket server;
    private final InetSocketAddress target;
    private final List<Relay> relays = new ArrayList<>();
    private final Thread acceptor;

    private LoginRecorder(ServerSocket server, InetSocketAddress target) {
        this.server = server;
        this.target = target;
        this.acceptor = new Thread(this::acceptLoop, "login-recorder-accept");
        acceptor.setDaemon(true);
    }

    /** Listens on a free port of 127.0.0.1 and relays every connection to {@code target}. */
    static LoginRecorder start(InetSocketAddress target) throws IOException {
        ServerSocket s = new ServerSocket(0, 8, InetAddress.getByName("127.0.0.1"));
        LoginRecorder r = new LoginRecorder(s, target);
        r.acceptor.start();
        LOG.info("login recorder on 127.0.0.1:{} relays to {}", s.getLocalPort(), target);
        return r;
    }

    InetSocketAddress address() {
        return new InetSocketAddress("127.0.0.1", server.getLocalPort());
    }

    /** The transcript of the {@code index}-th connection (0-based) once both sides closed it. */
    Transcript awaitClosed(int index, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Relay relay;
        while (true) {
            synchronized (relays) {
                if (relays.size() > index) {
                    relay = relays.get(index);
                    break;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no connection #" + index + " reached the recorder within " + timeout);
            }
            Thread.sleep(20);
        }
        long left = Math.max(1, deadline - System.nanoTime());
        if (!relay.done.await(left, TimeUnit.NANOSECONDS)) {
            throw new AssertionError("connection #" + index + " through the recorder still open after " + timeout);
        }
        return new Transcript(relay.up.toByteArray(), relay.down.toByteArray());
    }

    @Override
    public void close() throws IOException {
        server.close();
        synchronized (relays) {
            for (Relay r : relays) {
                r.closeSockets();
            }
        }
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket initiator = server.accept();
                Socket tgt = new Socket(target.getAddress(), target.getPort());
                Relay r = new Relay(initiator, tgt);
                synchronized (relays) {
                    relays.add(r);
                }
                r.start();
            } catch (IOException e) {
                if (!server.isClosed()) {
                    LOG.warn("login recorder: accept failed: {}", e.toString());
                }
                return;
            }
        }
    }

    /** Two pumps, one per direction; done when both saw end of stream. */
    private static final class Relay {
        final Socket initiator;
        final Socket target;
        final ByteArrayOutputStream up = new ByteArrayOutputStream();
        final ByteArrayOutputStream down = new ByteArrayOutputStream();
        final CountDownLatch done = new CountDownLatch(2);

        Relay(Socket initiator, Socket target) {
            this.initiator = initiator;
            this.target = target;
        }

        void start() {
            pump("up", initiator, target, up);
            pump("down", target, initiator, down);
        }

        private void pump(String name, Socket from, Socket to, ByteArrayOutputStream record) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[65536];
                try (InputStream in = from.getInputStream()) {
                    OutputStream out = to.getOutputStream();
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        synchronized (record) {
                            record.write(buf, 0, n);
                        }
                        out.write(buf, 0, n);
                        out.flush();
                    }
                } catch (IOException e) {
                    // a reset ends the transcript like an orderly close; the parser judges what arrived
                } finally {
                    try {
                        to.shutdownOutput();
                    } catch (IOException ignored) {
                        // the other side closed already
                    }
                    done.countDown();
                }
            }, "login-recorder-" + name);
            t.setDaemon(true);
            t.start();
        }

        void closeSockets() throws IOException {
            initiator.close();
            target.close();
        }
    }

    /**
     * Parses the login PDUs at the start of a transcript, and looks for digests on the first PDU after them: a valid
     * CRC32C after the header (after the data) means the sender applied a header (data) digest; a chance match of
     * four other bytes has a probability of 2^-32.
     */
    static LoginExchange parse(Transcript t) {
        Side up = side(t.fromInitiator(), OP_LOGIN_REQUEST, "initiator");
        Side down = side(t.fromTarget(), OP_LOGIN_RESPONSE, "target");
        return new LoginExchange(keys(up.text), keys(down.text), down.fullFeature,
                firstPdu(t.fromInitiator(), up.end), firstPdu(t.fromTarget(), down.end));
    }

    private record Side(ByteArrayOutputStream text, int end, boolean fullFeature) {
    }

    private static Side side(byte[] stream, int loginOpcode, String who) {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        int off = 0;
        boolean fullFeature = false;
        int pdus = 0;
        while (off + BHS <= stream.length && (stream[off] & 0x3f) == loginOpcode) {
            int flags = stream[off + 1] & 0xff;
            int ahs = (stream[off + 4] & 0xff) * 4;
            int length = dataLength(stream, off);
            int start = off + BHS + ahs;
            if (start + length > stream.length) {
                throw new AssertionError(who + " login PDU #" + pdus + " is cut short in the recorded stream");
            }
            text.write(stream, start, length);
            fullFeature = (flags & FLAG_TRANSIT) != 0 && (flags & 0x03) == FULL_FEATURE_PHASE;
            off = start + pad(length);
            pdus++;
        }
        if (pdus == 0) {
            throw new AssertionError("the " + who + " sent no login PDU (" + stream.length + " bytes recorded)");
        }
        return new Side(text, off, fullFeature);
    }

    private static Map<String, String> keys(ByteArrayOutputStream text) {
        Map<String, String> keys = new LinkedHashMap<>();
        for (String pair : text.toString(StandardCharsets.UTF_8).split("\0")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new AssertionError("malformed login text '" + pair + "'");
            }
            keys.put(pair.substring(0, eq), pair.substring(eq + 1));
        }
        return keys;
    }

    private static FirstPdu firstPdu(byte[] s, int off) {
        if (off + BHS > s.length) {
            return null;
        }
        int header = BHS + (s[off + 4] & 0xff) * 4;
        boolean headerOk = off + header + 4 <= s.length && crc(s, off, header) == littleEndian(s, off + header);
        int data = off + header + (headerOk ? 4 : 0);
        int length = dataLength(s, off);
        boolean dataOk = length > 0 && data + pad(length) + 4 <= s.length
                && crc(s, data, pad(length)) == littleEndian(s, data + pad(length));
        return new FirstPdu(s[off] & 0x3f, headerOk, length, dataOk);
    }

    private static int dataLength(byte[] s, int off) {
        return ((s[off + 5] & 0xff) << 16) | ((s[off + 6] & 0xff) << 8) | (s[off + 7] & 0xff);
    }

    private static int pad(int length) {
        return (length + 3) & ~3;
    }

    private static int crc(byte[] s, int off, int length) {
        CRC32C c = new CRC32C();
        c.update(s, off, length);
        return (int) c.getValue();
    }

    /** iSCSI sends the digest least significant byte first. */
    private static int littleEndian(byte[] s, int off) {
        return (s[off] & 0xff) | (s[off + 1] & 0xff) << 8 | (s[off + 2] & 0xff) << 16 | (s[off + 3] & 0xff) << 24;
    }
}
