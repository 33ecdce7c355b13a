package io.mpathnbd.server.it;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A FAKE NETWORK: a TCP relay between the gateway and one portal that can hold the bytes one connection sends towards
 * the portal and deliver them later, as a stalled switch queue or a partitioned link that heals would. No real peer
 * can delay bytes in flight on loopback, so this is the one fake of the ghost-write test; the target behind it
 * (tgtd) and the client in front of the gateway are real.
 *
 * <p>{@link #holdCurrent()} holds from now on what the newest connection sends to the target, and refuses new
 * connections (the link to that portal is down); the held connection's target side stays open even after the
 * gateway gives up on it, so {@link #deliverHeld()} can hand the held bytes to the target, which then answers on
 * that connection (its answer is kept: {@link #awaitTargetAnswer}); {@link #heal()} accepts connections again.
 */
final class FakeDelayingNetwork implements Closeable {
    private final InetSocketAddress target;
    private final ServerSocket listener;
    private final List<Link> links = new CopyOnWriteArrayList<>();
    private final Thread acceptor;
    private volatile boolean refusing;
    private volatile Link held;

    FakeDelayingNetwork(InetSocketAddress target) throws IOException {
        this.target = target;
        this.listener = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        this.acceptor = new Thread(this::accept, "fake-network-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return listener.getLocalPort();
    }

    private void accept() {
        while (!listener.isClosed()) {
            Socket gateway;
            try {
                gateway = listener.accept();
            } catch (IOException e) {
                return;
            }
            if (refusing) {
                closeQuietly(gateway);
                continue;
            }
            try {
                Socket portal = new Socket();
                portal.connect(target, 5000);
                Link l = new Link(gateway, portal);
                links.add(l);
                l.start();
            } catch (IOException e) {
                closeQuietly(gateway);
            }
        }
    }

    /** Holds what the newest connection sends to the target from now on; refuses new connections. */
    synchronized void holdCurrent() {
        refusing = true;
        Link l = links.isEmpty() ? null : links.get(links.size() - 1);
        if (l == null) {
            throw new IllegalStateException("no connection to hold");
        }
        synchronized (l) {
            l.holding = true;
        }
        held = l;
    }

    /** Bytes held so far. */
    int heldBytes() {
        Link l = held;
        synchronized (l) {
            return l.heldBytes.size();
        }
    }

    /** Hands the held bytes to the target, on the connection they were sent on. */
    void deliverHeld() throws IOException {
        Link l = held;
        synchronized (l) {
            l.holding = false;
            l.delivered = true;
            byte[] b = l.heldBytes.toByteArray();
            l.heldBytes.reset();
            l.deliveredBytes = b;
            l.portal.getOutputStream().write(b);
            l.portal.getOutputStream().flush();
            l.notifyAll();
        }
    }

    /**
     * Waits until the target has settled, on the held connection after the delivery, the first WRITE among the held
     * bytes: answered it (SCSI Response, opcode 0x21, with its task tag), or answered every task management request
     * held with it (0x22: the gateway's late ABORT TASK and LUN RESET, after which the write ran or never will).
     * Returns every PDU the target sent as "opcode" or "0x21/status", the write's own answer marked with "*"; empty if
     * the target did not settle it within {@code timeout}.
     */
    List<String> awaitTargetAnswer(Duration timeout) throws InterruptedException {
        Link l = held;
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (l) {
            Sent sent = sent(l.delivered());
            if (sent.writeTag() == null) {
                throw new IllegalStateException("no WRITE among the held bytes: " + sent);
            }
            while (true) {
                byte[] b = l.afterDelivery.toByteArray();
                List<String> out = new ArrayList<>();
                boolean writeAnswered = false;
                List<Integer> tmfAnswered = new ArrayList<>();
                int at = 0;
                while (at + 48 <= b.length) {
                    int opcode = b[at] & 0x3f;
                    int tag = tag(b, at);
                    if (opcode == 0x21) {
                        boolean mine = tag == sent.writeTag();
                        writeAnswered |= mine;
                        out.add(String.format("0x21/0x%02x", b[at + 3] & 0xff) + (mine ? "*" : ""));
                    } else {
                        if (opcode == 0x22) {
                            tmfAnswered.add(tag);
                        }
                        out.add(String.format("0x%02x", opcode));
                    }
                    at += pduLength(b, at);
                }
                if (writeAnswered || (!sent.tmfTags().isEmpty() && tmfAnswered.containsAll(sent.tmfTags()))) {
                    return out;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return List.of();
                }
                l.wait(Math.max(1, left / 1_000_000));
            }
        }
    }

    /** What the gateway sent in the held bytes: the first WRITE's task tag, every task management request's. */
    record Sent(Integer writeTag, List<Integer> tmfTags, List<String> opcodes) {
    }

    private static Sent sent(byte[] b) {
        Integer write = null;
        List<Integer> tmfs = new ArrayList<>();
        List<String> opcodes = new ArrayList<>();
        int at = 0;
        while (at + 48 <= b.length) {
            int opcode = b[at] & 0x3f;
            opcodes.add(String.format("0x%02x", opcode));
            if (opcode == 0x01 && write == null) {
                int cdb = b[at + 32] & 0xff;
                if (cdb == 0x2a || cdb == 0x8a || cdb == 0xaa) {
                    write = tag(b, at);
                }
            } else if (opcode == 0x02) {
                tmfs.add(tag(b, at));
            }
            at += pduLength(b, at);
        }
        return new Sent(write, tmfs, opcodes);
    }

    private static int tag(byte[] b, int at) {
        return ((b[at + 16] & 0xff) << 24) | ((b[at + 17] & 0xff) << 16) | ((b[at + 18] & 0xff) << 8)
                | (b[at + 19] & 0xff);
    }

    /** Ends the held connection and accepts connections again. */
    void heal() {
        Link l = held;
        held = null;
        if (l != null) {
            l.close();
        }
        refusing = false;
    }

    /** BHS, AHS and the data segment padded to 4 bytes; the gateway negotiates no digests with tgtd here. */
    private static int pduLength(byte[] b, int at) {
        int ahs = (b[at + 4] & 0xff) * 4;
        int data = ((b[at + 5] & 0xff) << 16) | ((b[at + 6] & 0xff) << 8) | (b[at + 7] & 0xff);
        return 48 + ahs + ((data + 3) & ~3);
    }

    @Override
    public void close() {
        closeQuietly(listener);
        for (Link l : links) {
            l.close();
        }
    }

    private static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    /** One relayed connection: a pump each way; the gateway-to-target one may hold. */
    private final class Link {
        final Socket gateway;
        final Socket portal;
        final ByteArrayOutputStream heldBytes = new ByteArrayOutputStream();
        final ByteArrayOutputStream afterDelivery = new ByteArrayOutputStream();
        boolean holding;
        boolean delivered;
        byte[] deliveredBytes = new byte[0];

        byte[] delivered() {
            return deliveredBytes;
        }

        Link(Socket gateway, Socket portal) {
            this.gateway = gateway;
            this.portal = portal;
        }

        void start() {
            Thread up = new Thread(this::up, "fake-network-up");
            Thread down = new Thread(this::down, "fake-network-down");
            up.setDaemon(true);
            down.setDaemon(true);
            up.start();
            down.start();
        }

        /** Gateway to target: held while holding; the gateway closing does not close a held target side. */
        private void up() {
            byte[] buf = new byte[65536];
            try {
                InputStream in = gateway.getInputStream();
                OutputStream out = portal.getOutputStream();
                int n;
                while ((n = in.read(buf)) >= 0) {
                    synchronized (this) {
                        if (holding) {
                            heldBytes.write(buf, 0, n);
                            continue;
                        }
                        out.write(buf, 0, n);
                    }
                }
            } catch (IOException e) {
                // the gateway reset the connection
            }
            synchronized (this) {
                if (held == this) {
                    return; // the bytes in the network outlive the gateway's end of it
                }
            }
            close();
        }

        /** Target to gateway: passed on while the gateway is there; after a delivery also kept for the test. */
        private void down() {
            byte[] buf = new byte[65536];
            try {
                InputStream in = portal.getInputStream();
                OutputStream out = gateway.getOutputStream();
                int n;
                while ((n = in.read(buf)) >= 0) {
                    synchronized (this) {
                        if (delivered) {
                            afterDelivery.write(buf, 0, n);
                            notifyAll();
                            continue;
                        }
                    }
                    try {
                        out.write(buf, 0, n);
                    } catch (IOException e) {
                        synchronized (this) {
                            if (held != this) {
                                throw e;
                            }
                        }
                    }
                }
            } catch (IOException e) {
                // the target or the test closed it
            }
            if (held != this) {
                close();
            }
        }

        void close() {
            closeQuietly(gateway);
            closeQuietly(portal);
        }
    }
}
