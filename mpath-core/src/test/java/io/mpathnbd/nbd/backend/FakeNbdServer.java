package io.mpathnbd.nbd.backend;

import io.mpathnbd.nbd.protocol.NbdConstants;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

/**
 * A FAKE NBD server for the misbehaviour no real server shows on demand: broken reply chunks, replies to unknown
 * cookies, a server without GO or without fixed newstyle. It speaks just enough of the protocol, over blocking
 * sockets, for one client connection; {@link Script} decides what happens in transmission. Not a reference for
 * correct behaviour: the real servers (nbdkit, nbd-server, qemu-nbd) are.
 */
final class FakeNbdServer implements AutoCloseable {
    /** What the fake does once the client is in transmission. */
    interface Script {
        void run(Wire wire) throws IOException;
    }

    /** The handshake variants the fake can play. */
    enum Handshake {
        NORMAL, NO_GO, NOT_FIXED_NEWSTYLE,
        /** Acknowledges EXTENDED_HEADERS, then calls GO unsupported: what the spec forbids such a server to do. */
        EXTENDED_THEN_NO_GO
    }

    private final ServerSocket listener;
    private final Handshake handshake;
    private final long size;
    private final Script script;
    private final CompletableFuture<Throwable> done = new CompletableFuture<>();
    private volatile Socket client;

    FakeNbdServer(Handshake handshake, long size, Script script) throws IOException {
        this.listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        this.handshake = handshake;
        this.size = size;
        this.script = script;
        Thread t = new Thread(this::serve, "fake-nbd-server");
        t.setDaemon(true);
        t.start();
    }

    String uri() {
        return "nbd://127.0.0.1:" + listener.getLocalPort() + "/fake";
    }

    /** Completes with null when the script finished, or with what went wrong in the fake itself. */
    CompletableFuture<Throwable> done() {
        return done;
    }

    private void serve() {
        try (Socket s = listener.accept()) {
            client = s;
            Wire w = new Wire(new DataInputStream(new BufferedInputStream(s.getInputStream())),
                    new DataOutputStream(s.getOutputStream()));
            if (negotiate(w)) {
                script.run(w);
            }
            done.complete(null);
        } catch (IOException e) {
            done.complete(e);
        }
    }

    private boolean negotiate(Wire w) throws IOException {
        w.out.writeLong(NbdConstants.NBDMAGIC);
        w.out.writeLong(NbdConstants.IHAVEOPT);
        w.out.writeShort(handshake == Handshake.NOT_FIXED_NEWSTYLE ? 0 : NbdConstants.FLAG_FIXED_NEWSTYLE);
        w.out.flush();
        w.in.readInt(); // client flags
        while (true) {
            long magic = w.in.readLong();
            if (magic != NbdConstants.IHAVEOPT) {
                throw new IOException("bad option magic from the client");
            }
            int option = w.in.readInt();
            byte[] data = new byte[w.in.readInt()];
            w.in.readFully(data);
            switch (option) {
                case NbdConstants.OPT_STRUCTURED_REPLY:
                    optionReply(w, option, NbdConstants.REP_ACK, new byte[0]);
                    break;
                case NbdConstants.OPT_EXTENDED_HEADERS:
                    optionReply(w, option, handshake == Handshake.EXTENDED_THEN_NO_GO ? NbdConstants.REP_ACK
                            : NbdConstants.REP_ERR_UNSUP, new byte[0]);
                    break;
                case NbdConstants.OPT_SET_META_CONTEXT: {
                    byte[] name = NbdConstants.META_BASE_ALLOCATION.getBytes(StandardCharsets.UTF_8);
                    byte[] reply = new byte[4 + name.length];
                    reply[3] = 1; // context id 1
                    System.arraycopy(name, 0, reply, 4, name.length);
                    optionReply(w, option, NbdConstants.REP_META_CONTEXT, reply);
                    optionReply(w, option, NbdConstants.REP_ACK, new byte[0]);
                    break;
                }
                case NbdConstants.OPT_GO:
                    if (handshake == Handshake.NO_GO || handshake == Handshake.EXTENDED_THEN_NO_GO) {
                        optionReply(w, option, NbdConstants.REP_ERR_UNSUP, new byte[0]);
                        break;
                    }
                    byte[] info = new byte[12];
                    for (int i = 0; i < 8; i++) {
                        info[2 + i] = (byte) (size >>> (56 - 8 * i));
                    }
                    info[11] = (byte) (NbdConstants.TFLAG_HAS_FLAGS | NbdConstants.TFLAG_SEND_FLUSH);
                    optionReply(w, option, NbdConstants.REP_INFO, info);
                    optionReply(w, option, NbdConstants.REP_ACK, new byte[0]);
                    return true;
                case NbdConstants.OPT_EXPORT_NAME:
                    w.out.writeLong(size);
                    w.out.writeShort(NbdConstants.TFLAG_HAS_FLAGS | NbdConstants.TFLAG_SEND_FLUSH);
                    w.out.write(new byte[124]);
                    w.out.flush();
                    return true;
                default:
                    optionReply(w, option, NbdConstants.REP_ERR_UNSUP, new byte[0]);
                    break;
            }
        }
    }

    private static void optionReply(Wire w, int option, int type, byte[] data) throws IOException {
        w.out.writeLong(NbdConstants.OPTION_REPLY_MAGIC);
        w.out.writeInt(option);
        w.out.writeInt(type);
        w.out.writeInt(data.length);
        w.out.write(data);
        w.out.flush();
    }

    /** One request as the fake received it. */
    record Request(int flags, int type, long cookie, long offset, int length) {
    }

    /** The fake's side of the connection in transmission, with writers for crafted replies. */
    static final class Wire {
        final DataInputStream in;
        final DataOutputStream out;

        Wire(DataInputStream in, DataOutputStream out) {
            this.in = in;
            this.out = out;
        }

        Request readRequest() throws IOException {
            if (in.readInt() != NbdConstants.REQUEST_MAGIC) {
                throw new IOException("bad request magic from the client");
            }
            Request r = new Request(in.readUnsignedShort(), in.readUnsignedShort(), in.readLong(), in.readLong(),
                    in.readInt());
            if (r.type() == NbdConstants.CMD_WRITE) {
                in.readFully(new byte[r.length()]);
            }
            return r;
        }

        void simpleReply(long cookie, int error, byte[] data) throws IOException {
            out.writeInt(NbdConstants.SIMPLE_REPLY_MAGIC);
            out.writeInt(error);
            out.writeLong(cookie);
            if (data != null) {
                out.write(data);
            }
            out.flush();
        }

        void dataChunk(long cookie, boolean done, long offset, byte[] data) throws IOException {
            chunkHeader(cookie, done, NbdConstants.REPLY_TYPE_OFFSET_DATA, 8 + data.length);
            out.writeLong(offset);
            out.write(data);
            out.flush();
        }

        void errorChunk(long cookie, boolean done, int error, String message) throws IOException {
            byte[] m = message.getBytes(StandardCharsets.UTF_8);
            chunkHeader(cookie, done, NbdConstants.REPLY_TYPE_ERROR, 6 + m.length);
            out.writeInt(error);
            out.writeShort(m.length);
            out.write(m);
            out.flush();
        }

        private void chunkHeader(long cookie, boolean done, int type, int length) throws IOException {
            out.writeInt(NbdConstants.STRUCTURED_REPLY_MAGIC);
            out.writeShort(done ? NbdConstants.REPLY_FLAG_DONE : 0);
            out.writeShort(type);
            out.writeLong(cookie);
            out.writeInt(length);
        }

        /** Blocks until the client closes the connection (EOF or reset). */
        void awaitClose() {
            try {
                while (in.read() >= 0) {
                    // discard
                }
            } catch (IOException closed) {
                // reset counts as closed
            }
        }
    }

    @Override
    public void close() throws IOException {
        Socket c = client;
        if (c != null) {
            c.close();
        }
        listener.close();
    }
}
