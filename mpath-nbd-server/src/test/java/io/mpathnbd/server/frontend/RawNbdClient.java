package io.mpathnbd.server.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mpathnbd.nbd.protocol.NbdConstants;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A deliberately simple blocking NBD client over a plain socket, for what the real clients never send: broken magic,
 * truncated payloads, oversized options, pipelined bytes right behind GO. Every byte is written by hand.
 */
final class RawNbdClient implements AutoCloseable {
    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    /** The flags GO's NBD_INFO_EXPORT gave, when {@link #attach} got here. */
    private int transmissionFlags = -1;

    record OptionReply(int option, int type, byte[] data) {
        boolean isError() {
            return (type & NbdConstants.REP_FLAG_ERROR) != 0;
        }

        String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    /** A simple reply (type -1) or a structured chunk. */
    record Reply(boolean structured, int flags, int type, long cookie, int error, byte[] data) {
    }

    private RawNbdClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(socket.getInputStream());
        this.out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 1 << 16));
    }

    static RawNbdClient connect(InetSocketAddress address) throws IOException {
        return connectFrom(address, null);
    }

    /** Connects from the loopback address {@code local} (any port), e.g. 127.0.0.2, to look like another host. */
    static RawNbdClient connectFrom(InetSocketAddress address, java.net.InetAddress local) throws IOException {
        Socket s = new Socket();
        if (local != null) {
            s.bind(new InetSocketAddress(local, 0));
        }
        s.connect(address, 5000);
        s.setSoTimeout(15000);
        s.setTcpNoDelay(true);
        return new RawNbdClient(s);
    }

    /** Connects, reads the greeting and answers with {@code clientFlags}. */
    static RawNbdClient handshake(InetSocketAddress address, int clientFlags) throws IOException {
        return handshakeFrom(address, null, clientFlags);
    }

    /** {@link #handshake} from the loopback address {@code local} (null: any). */
    static RawNbdClient handshakeFrom(InetSocketAddress address, java.net.InetAddress local, int clientFlags)
            throws IOException {
        RawNbdClient c = connectFrom(address, local);
        int flags = c.readGreeting();
        assertEquals(NbdConstants.FLAG_FIXED_NEWSTYLE | NbdConstants.FLAG_NO_ZEROES, flags);
        c.out.writeInt(clientFlags);
        c.out.flush();
        return c;
    }

    /** Handshake with both client flags, structured replies if asked, base:allocation if asked, then GO. */
    static RawNbdClient attach(InetSocketAddress address, String export, boolean structured, boolean allocation)
            throws IOException {
        return attachFrom(address, null, export, structured, allocation);
    }

    /** {@link #attach} without structured replies, from the loopback address {@code local}. */
    static RawNbdClient attachFrom(InetSocketAddress address, java.net.InetAddress local, String export)
            throws IOException {
        return attachFrom(address, local, export, false, false);
    }

    /** {@link #attach} from the loopback address {@code local} (null: any). */
    static RawNbdClient attachFrom(InetSocketAddress address, java.net.InetAddress local, String export,
            boolean structured, boolean allocation) throws IOException {
        RawNbdClient c = handshakeFrom(address, local,
                NbdConstants.CLIENT_FLAG_FIXED_NEWSTYLE | NbdConstants.CLIENT_FLAG_NO_ZEROES);
        if (structured) {
            c.sendOption(NbdConstants.OPT_STRUCTURED_REPLY, new byte[0]);
            assertEquals(NbdConstants.REP_ACK, c.readOptionReply().type());
        }
        if (allocation) {
            c.sendOption(NbdConstants.OPT_SET_META_CONTEXT, metaContextData(export, "base:allocation"));
            List<OptionReply> replies = c.readFinalReplies();
            assertEquals(NbdConstants.REP_ACK, replies.get(replies.size() - 1).type(), "SET_META_CONTEXT");
        }
        c.sendOption(NbdConstants.OPT_GO, infoData(export, NbdConstants.INFO_BLOCK_SIZE));
        List<OptionReply> replies = c.readFinalReplies();
        OptionReply last = replies.get(replies.size() - 1);
        assertEquals(NbdConstants.REP_ACK, last.type(), () -> "GO failed: " + last.text());
        for (OptionReply r : replies) {
            if (r.type() == NbdConstants.REP_INFO && ByteBuffer.wrap(r.data()).getShort() == NbdConstants.INFO_EXPORT) {
                c.transmissionFlags = ByteBuffer.wrap(r.data()).getShort(10) & 0xffff;
            }
        }
        return c;
    }

    /**
     * An extended reply chunk (32-byte header).
     *
     * @param offset the request offset the header echoes
     * @param error for an error chunk, its error value, else 0
     */
    record ExtReply(int flags, int type, long cookie, long offset, int error, byte[] data) {
        boolean done() {
            return (flags & NbdConstants.REPLY_FLAG_DONE) != 0;
        }
    }

    /**
     * Handshake with EXTENDED_HEADERS (acknowledged), then base:allocation if asked, then GO: a client of the 32-byte
     * headers. No STRUCTURED_REPLY: extended headers imply it.
     */
    static RawNbdClient attachExtended(InetSocketAddress address, String export, boolean allocation)
            throws IOException {
        RawNbdClient c = handshake(address, NbdConstants.CLIENT_FLAG_FIXED_NEWSTYLE | NbdConstants.CLIENT_FLAG_NO_ZEROES);
        c.sendOption(NbdConstants.OPT_EXTENDED_HEADERS, new byte[0]);
        assertEquals(NbdConstants.REP_ACK, c.readOptionReply().type(), "EXTENDED_HEADERS");
        if (allocation) {
            c.sendOption(NbdConstants.OPT_SET_META_CONTEXT, metaContextData(export, "base:allocation"));
            List<OptionReply> replies = c.readFinalReplies();
            assertEquals(NbdConstants.REP_ACK, replies.get(replies.size() - 1).type(), "SET_META_CONTEXT");
        }
        c.sendOption(NbdConstants.OPT_GO, infoData(export, NbdConstants.INFO_BLOCK_SIZE));
        List<OptionReply> replies = c.readFinalReplies();
        OptionReply last = replies.get(replies.size() - 1);
        assertEquals(NbdConstants.REP_ACK, last.type(), () -> "GO failed: " + last.text());
        return c;
    }

    void sendExtendedRequest(int flags, int type, long cookie, long offset, long length, byte[] payload)
            throws IOException {
        write(extendedRequestBytes(flags, type, cookie, offset, length, payload));
    }

    /** The next reply, which must be an extended chunk. */
    ExtReply readExtendedReply() throws IOException {
        assertEquals(NbdConstants.EXTENDED_REPLY_MAGIC, in.readInt(), "extended reply magic");
        int flags = in.readUnsignedShort();
        int type = in.readUnsignedShort();
        long cookie = in.readLong();
        long offset = in.readLong();
        long length = in.readLong();
        byte[] data = new byte[Math.toIntExact(length)];
        in.readFully(data);
        int error = (type & 0x8000) != 0 ? ByteBuffer.wrap(data).getInt() : 0;
        return new ExtReply(flags, type, cookie, offset, error, data);
    }

    static byte[] extendedRequestBytes(int flags, int type, long cookie, long offset, long length, byte[] payload) {
        int n = payload == null ? 0 : payload.length;
        ByteBuffer b = ByteBuffer.allocate(32 + n);
        b.putInt(NbdConstants.EXTENDED_REQUEST_MAGIC).putShort((short) flags).putShort((short) type).putLong(cookie)
                .putLong(offset).putLong(length);
        if (payload != null) {
            b.put(payload);
        }
        return b.array();
    }

    int readGreeting() throws IOException {
        assertEquals(NbdConstants.NBDMAGIC, in.readLong());
        assertEquals(NbdConstants.IHAVEOPT, in.readLong());
        return in.readUnsignedShort();
    }

    void writeInt(int v) throws IOException {
        out.writeInt(v);
        out.flush();
    }

    void sendOption(int option, byte[] data) throws IOException {
        out.write(optionBytes(option, data));
        out.flush();
    }

    /** Option header announcing {@code length} bytes, then {@code length} zero bytes streamed. */
    void sendLargeOption(int option, long length) throws IOException {
        out.writeLong(NbdConstants.IHAVEOPT);
        out.writeInt(option);
        out.writeInt((int) length);
        byte[] zeroes = new byte[1 << 16];
        for (long left = length; left > 0; left -= zeroes.length) {
            out.write(zeroes, 0, (int) Math.min(zeroes.length, left));
        }
        out.flush();
    }

    OptionReply readOptionReply() throws IOException {
        assertEquals(NbdConstants.OPTION_REPLY_MAGIC, in.readLong(), "option reply magic");
        int option = in.readInt();
        int type = in.readInt();
        int length = in.readInt();
        byte[] data = new byte[length];
        in.readFully(data);
        return new OptionReply(option, type, data);
    }

    /** Replies until the final one of the option (ACK or an error). */
    List<OptionReply> readFinalReplies() throws IOException {
        List<OptionReply> replies = new ArrayList<>();
        while (true) {
            OptionReply r = readOptionReply();
            replies.add(r);
            if (r.type() == NbdConstants.REP_ACK || r.isError()) {
                return replies;
            }
        }
    }

    void sendRequest(int flags, int type, long cookie, long offset, int length, byte[] payload) throws IOException {
        out.write(requestBytes(flags, type, cookie, offset, length, payload));
        out.flush();
    }

    void write(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /**
     * The next reply; {@code readLength} is how many data bytes a successful simple reply carries (the client has to
     * know: that is the simple reply's flaw).
     */
    Reply readReply(int readLength) throws IOException {
        int magic = in.readInt();
        if (magic == NbdConstants.SIMPLE_REPLY_MAGIC) {
            int error = in.readInt();
            long cookie = in.readLong();
            byte[] data = new byte[error == 0 ? readLength : 0];
            in.readFully(data);
            return new Reply(false, 0, -1, cookie, error, data);
        }
        assertEquals(NbdConstants.STRUCTURED_REPLY_MAGIC, magic, "reply magic");
        int flags = in.readUnsignedShort();
        int type = in.readUnsignedShort();
        long cookie = in.readLong();
        int length = in.readInt();
        byte[] data = new byte[length];
        in.readFully(data);
        int error = 0;
        if ((type & 0x8000) != 0) {
            error = ByteBuffer.wrap(data).getInt();
        }
        return new Reply(true, flags, type, cookie, error, data);
    }

    /** True if the server closes the connection within {@code within} (anything it still sends is skipped). */
    boolean closedByServer(Duration within) throws IOException {
        long deadline = System.nanoTime() + within.toNanos();
        byte[] sink = new byte[1 << 16];
        while (System.nanoTime() < deadline) {
            try {
                socket.setSoTimeout(200);
                if (in.read(sink) < 0) {
                    return true;
                }
            } catch (SocketTimeoutException notYet) {
                // still open
            } catch (EOFException e) {
                return true;
            } catch (IOException e) {
                // connection reset counts as closed
                return true;
            }
        }
        return false;
    }

    int transmissionFlags() {
        return transmissionFlags;
    }

    Socket socket() {
        return socket;
    }

    DataInputStream in() {
        return in;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    static byte[] optionBytes(int option, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(16 + data.length);
        b.putLong(NbdConstants.IHAVEOPT).putInt(option).putInt(data.length).put(data);
        return b.array();
    }

    static byte[] requestBytes(int flags, int type, long cookie, long offset, int length, byte[] payload) {
        int n = payload == null ? 0 : payload.length;
        ByteBuffer b = ByteBuffer.allocate(28 + n);
        b.putInt(NbdConstants.REQUEST_MAGIC).putShort((short) flags).putShort((short) type).putLong(cookie)
                .putLong(offset).putInt(length);
        if (payload != null) {
            b.put(payload);
        }
        return b.array();
    }

    static byte[] infoData(String name, int... infos) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + n.length + 2 + 2 * infos.length);
        b.putInt(n.length).put(n).putShort((short) infos.length);
        for (int i : infos) {
            b.putShort((short) i);
        }
        return b.array();
    }

    static byte[] metaContextData(String name, String... queries) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        int size = 4 + n.length + 4;
        for (String q : queries) {
            size += 4 + q.getBytes(StandardCharsets.UTF_8).length;
        }
        ByteBuffer b = ByteBuffer.allocate(size);
        b.putInt(n.length).put(n).putInt(queries.length);
        for (String q : queries) {
            byte[] qb = q.getBytes(StandardCharsets.UTF_8);
            b.putInt(qb.length).put(qb);
        }
        return b.array();
    }
}
