package io.mpathnbd.nbd.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The data of handshake options and option replies, both directions. Parsers read with absolute indices: they neither
 * move the reader index nor release the buffer. Malformed data (any length that does not add up exactly) throws
 * {@link NbdProtocolException}; the server answers NBD_REP_ERR_INVALID, a client gives up on the server. Names sent by a
 * client are checked strictly (valid UTF-8, no NUL, at most {@link NbdConstants#MAX_STRING} bytes); display text from
 * a server is decoded leniently. Builders return a fresh buffer owned by the caller and reject strings over
 * MAX_STRING bytes with IllegalArgumentException (a configuration bug, not peer input).
 */
public final class NbdOptionPayloads {
    private NbdOptionPayloads() {
    }

    /** INFO/GO data: the export name and the requested NBD_INFO types (each a u16). */
    public record ExportRequest(String name, int[] infoRequests) {
    }

    /** LIST_META_CONTEXT/SET_META_CONTEXT data. */
    public record MetaContextRequest(String exportName, List<String> queries) {
    }

    /**
     * One NBD_REP_INFO. Fields not carried by {@code type} are 0 / null: EXPORT fills size and flags (flags as u16),
     * NAME and DESCRIPTION fill text, BLOCK_SIZE fills the three block sizes (u32 each). Unknown types (which clients
     * must ignore) carry only the type.
     */
    public record InfoRecord(int type, long size, int flags, String text, int minBlock, int preferredBlock,
            int maxBlock) {
    }

    /** One NBD_REP_META_CONTEXT: the context id and its name. */
    public record MetaContextRecord(int id, String name) {
    }

    /** One NBD_REP_SERVER (answer to LIST): the export name and the optional description ("" when absent). */
    public record ServerRecord(String name, String description) {
    }

    // ---- server side: parse what a client sent ----

    /** INFO/GO: u32 name length, name, u16 count, count x u16; nothing may be missing or left over. */
    public static ExportRequest parseInfoOrGo(ByteBuf data) {
        int base = data.readerIndex();
        int total = data.readableBytes();
        if (total < 6) {
            throw new NbdProtocolException("INFO/GO data is " + total + " bytes, at least 6 are needed");
        }
        long nameLength = data.getUnsignedInt(base);
        if (nameLength > total - 6) {
            throw new NbdProtocolException("INFO/GO name length " + nameLength + " does not fit in " + total
                    + " bytes of data");
        }
        String name = NbdStrings.strict(data, base + 4, (int) nameLength, "export name");
        int countAt = base + 4 + (int) nameLength;
        int count = data.getUnsignedShort(countAt);
        int expected = 4 + (int) nameLength + 2 + 2 * count;
        if (expected != total) {
            throw new NbdProtocolException("INFO/GO data with " + count + " info requests should be " + expected
                    + " bytes, is " + total);
        }
        int[] requests = new int[count];
        for (int i = 0; i < count; i++) {
            requests[i] = data.getUnsignedShort(countAt + 2 + 2 * i);
        }
        return new ExportRequest(name, requests);
    }

    /**
     * LIST_META_CONTEXT/SET_META_CONTEXT: u32 name length, name, u32 query count, then per query u32 length and the
     * query; nothing may be missing or left over.
     */
    public static MetaContextRequest parseMetaContext(ByteBuf data) {
        int base = data.readerIndex();
        int end = base + data.readableBytes();
        int pos = base;
        long nameLength = requireU32(data, pos, end, "meta context export name length");
        pos += 4;
        requireBytes(pos, end, nameLength, "meta context export name");
        String exportName = NbdStrings.strict(data, pos, (int) nameLength, "export name");
        pos += (int) nameLength;
        long count = requireU32(data, pos, end, "meta context query count");
        pos += 4;
        // every query takes at least its 4-byte length: a count that cannot fit is rejected before allocating
        if (count > (end - pos) / 4) {
            throw new NbdProtocolException("meta context query count " + count + " does not fit in the data");
        }
        List<String> queries = new ArrayList<>((int) count);
        for (long i = 0; i < count; i++) {
            long queryLength = requireU32(data, pos, end, "meta context query length");
            pos += 4;
            requireBytes(pos, end, queryLength, "meta context query");
            queries.add(NbdStrings.strict(data, pos, (int) queryLength, "meta context query"));
            pos += (int) queryLength;
        }
        if (pos != end) {
            throw new NbdProtocolException((end - pos) + " bytes left over after the meta context queries");
        }
        return new MetaContextRequest(exportName, Collections.unmodifiableList(queries));
    }

    /** EXPORT_NAME: the whole data is the name. */
    public static String parseExportName(ByteBuf data) {
        return NbdStrings.strict(data, data.readerIndex(), data.readableBytes(), "export name");
    }

    // ---- server side: build reply data ----

    /** NBD_INFO_EXPORT: u16 type 0, u64 size, u16 transmission flags. */
    public static ByteBuf infoExport(ByteBufAllocator a, long size, int transmissionFlags) {
        ByteBuf b = a.buffer(12);
        b.writeShort(NbdConstants.INFO_EXPORT);
        b.writeLong(size);
        b.writeShort(transmissionFlags);
        return b;
    }

    /** NBD_INFO_NAME: u16 type 1, the name. */
    public static ByteBuf infoName(ByteBufAllocator a, String name) {
        return typedText(a, NbdConstants.INFO_NAME, name, "export name");
    }

    /** NBD_INFO_DESCRIPTION: u16 type 2, the description. */
    public static ByteBuf infoDescription(ByteBufAllocator a, String description) {
        return typedText(a, NbdConstants.INFO_DESCRIPTION, description, "export description");
    }

    /** NBD_INFO_BLOCK_SIZE: u16 type 3, u32 minimum, u32 preferred, u32 maximum. */
    public static ByteBuf infoBlockSize(ByteBufAllocator a, int min, int preferred, int max) {
        ByteBuf b = a.buffer(14);
        b.writeShort(NbdConstants.INFO_BLOCK_SIZE);
        b.writeInt(min);
        b.writeInt(preferred);
        b.writeInt(max);
        return b;
    }

    /** NBD_REP_SERVER: u32 name length, name, then the description (omitted when null or empty). */
    public static ByteBuf server(ByteBufAllocator a, String name, String description) {
        int nameLength = NbdStrings.checkedLength(name, "export name");
        String desc = description == null ? "" : description;
        int descLength = NbdStrings.checkedLength(desc, "export description");
        ByteBuf b = a.buffer(4 + nameLength + descLength);
        b.writeInt(nameLength);
        ByteBufUtil.writeUtf8(b, name);
        ByteBufUtil.writeUtf8(b, desc);
        return b;
    }

    /** NBD_REP_META_CONTEXT: u32 context id, the context name. */
    public static ByteBuf metaContext(ByteBufAllocator a, int id, String name) {
        int length = NbdStrings.checkedLength(name, "meta context name");
        ByteBuf b = a.buffer(4 + length);
        b.writeInt(id);
        ByteBufUtil.writeUtf8(b, name);
        return b;
    }

    /** Data of an error reply: the message for a human, cut to MAX_STRING bytes. */
    public static ByteBuf errorMessage(ByteBufAllocator a, String message) {
        String m = NbdStrings.truncate(message == null ? "" : message, NbdConstants.MAX_STRING);
        ByteBuf b = a.buffer(NbdStrings.utf8Length(m));
        ByteBufUtil.writeUtf8(b, m);
        return b;
    }

    // ---- client side: build option data ----

    /** INFO/GO data: u32 name length, name, u16 count, the info requests as u16. */
    public static ByteBuf infoOrGo(ByteBufAllocator a, String name, int... infoRequests) {
        int nameLength = NbdStrings.checkedLength(name, "export name");
        if (infoRequests.length > 0xffff) {
            throw new IllegalArgumentException("too many info requests: " + infoRequests.length);
        }
        ByteBuf b = a.buffer(4 + nameLength + 2 + 2 * infoRequests.length);
        b.writeInt(nameLength);
        ByteBufUtil.writeUtf8(b, name);
        b.writeShort(infoRequests.length);
        for (int r : infoRequests) {
            b.writeShort(r);
        }
        return b;
    }

    /** LIST/SET_META_CONTEXT data: u32 name length, name, u32 count, per query u32 length and query. */
    public static ByteBuf metaContextQuery(ByteBufAllocator a, String exportName, String... queries) {
        int nameLength = NbdStrings.checkedLength(exportName, "export name");
        int size = 4 + nameLength + 4;
        int[] lengths = new int[queries.length];
        for (int i = 0; i < queries.length; i++) {
            lengths[i] = NbdStrings.checkedLength(queries[i], "meta context query");
            size += 4 + lengths[i];
        }
        ByteBuf b = a.buffer(size);
        b.writeInt(nameLength);
        ByteBufUtil.writeUtf8(b, exportName);
        b.writeInt(queries.length);
        for (int i = 0; i < queries.length; i++) {
            b.writeInt(lengths[i]);
            ByteBufUtil.writeUtf8(b, queries[i]);
        }
        return b;
    }

    // ---- client side: parse what a server sent ----

    /** NBD_REP_INFO data: u16 type, then a payload whose length the type fixes (EXPORT 12, BLOCK_SIZE 14 in all). */
    public static InfoRecord parseInfo(ByteBuf data) {
        int base = data.readerIndex();
        int total = data.readableBytes();
        if (total < 2) {
            throw new NbdProtocolException("INFO reply is " + total + " bytes, at least 2 are needed");
        }
        int type = data.getUnsignedShort(base);
        switch (type) {
            case NbdConstants.INFO_EXPORT:
                requireExactly(total, 12, "INFO_EXPORT");
                return new InfoRecord(type, data.getLong(base + 2), data.getUnsignedShort(base + 10), null, 0, 0, 0);
            case NbdConstants.INFO_NAME:
            case NbdConstants.INFO_DESCRIPTION:
                return new InfoRecord(type, 0, 0, NbdStrings.lenient(data, base + 2, total - 2), 0, 0, 0);
            case NbdConstants.INFO_BLOCK_SIZE:
                requireExactly(total, 14, "INFO_BLOCK_SIZE");
                return new InfoRecord(type, 0, 0, null, data.getInt(base + 2), data.getInt(base + 6),
                        data.getInt(base + 10));
            default:
                return new InfoRecord(type, 0, 0, null, 0, 0, 0);
        }
    }

    /** NBD_REP_META_CONTEXT data: u32 id, then the name (the rest of the data). */
    public static MetaContextRecord parseMetaContextReply(ByteBuf data) {
        int base = data.readerIndex();
        int total = data.readableBytes();
        if (total < 4) {
            throw new NbdProtocolException("META_CONTEXT reply is " + total + " bytes, at least 4 are needed");
        }
        if (total - 4 > NbdConstants.MAX_STRING) {
            throw new NbdProtocolException("meta context name is " + (total - 4) + " bytes, more than "
                    + NbdConstants.MAX_STRING);
        }
        return new MetaContextRecord(data.getInt(base), NbdStrings.lenient(data, base + 4, total - 4));
    }

    /** NBD_REP_SERVER data: u32 name length, name, then an optional description. */
    public static ServerRecord parseServer(ByteBuf data) {
        int base = data.readerIndex();
        int total = data.readableBytes();
        if (total < 4) {
            throw new NbdProtocolException("SERVER reply is " + total + " bytes, at least 4 are needed");
        }
        long nameLength = data.getUnsignedInt(base);
        if (nameLength > total - 4) {
            throw new NbdProtocolException("SERVER name length " + nameLength + " does not fit in " + total
                    + " bytes");
        }
        if (nameLength > NbdConstants.MAX_STRING) {
            throw new NbdProtocolException("export name is " + nameLength + " bytes, more than "
                    + NbdConstants.MAX_STRING);
        }
        int n = (int) nameLength;
        return new ServerRecord(NbdStrings.lenient(data, base + 4, n),
                NbdStrings.lenient(data, base + 4 + n, total - 4 - n));
    }

    // ---- helpers ----

    private static ByteBuf typedText(ByteBufAllocator a, int type, String text, String what) {
        int length = NbdStrings.checkedLength(text, what);
        ByteBuf b = a.buffer(2 + length);
        b.writeShort(type);
        ByteBufUtil.writeUtf8(b, text);
        return b;
    }

    private static long requireU32(ByteBuf data, int pos, int end, String what) {
        if (end - pos < 4) {
            throw new NbdProtocolException("data ends before the " + what);
        }
        return data.getUnsignedInt(pos);
    }

    private static void requireBytes(int pos, int end, long length, String what) {
        if (length > end - pos) {
            throw new NbdProtocolException(what + " of " + length + " bytes does not fit in the data");
        }
    }

    private static void requireExactly(int total, int expected, String what) {
        if (total != expected) {
            throw new NbdProtocolException(what + " reply must be " + expected + " bytes, is " + total);
        }
    }
}
