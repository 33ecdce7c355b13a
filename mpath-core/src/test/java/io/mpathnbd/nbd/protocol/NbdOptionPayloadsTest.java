package io.mpathnbd.nbd.protocol;

import static io.mpathnbd.core.support.WireBytes.bytes;
import static io.mpathnbd.core.support.WireBytes.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.support.WireBytes;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NbdOptionPayloadsTest {
    private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;

    /** Runs {@code check} on a pooled buffer holding {@code hex}, verifies the reader index did not move, releases. */
    private static void with(String hex, Consumer<ByteBuf> check) {
        ByteBuf b = WireBytes.pooled(bytes(hex));
        int reader = b.readerIndex();
        try {
            check.accept(b);
            assertEquals(reader, b.readerIndex(), "parsers must not move the reader index");
        } finally {
            assertTrue(b.release());
        }
    }

    /** Builds with {@code build}, compares with the expected bytes, releases. */
    private static void built(String expectedHex, Function<ByteBufAllocator, ByteBuf> build) {
        ByteBuf b = build.apply(ALLOC);
        try {
            assertEquals(hex(bytes(expectedHex)), hex(b));
        } finally {
            assertTrue(b.release());
            assertEquals(0, b.refCnt());
        }
    }

    // ---- INFO / GO ----

    @Test
    void infoOrGoBuildsAndParsesTheSpecLayout() {
        built("00000004 6469736b 0002 0003 0001", a -> NbdOptionPayloads.infoOrGo(a, "disk", 3, 1));
        with("00000004 6469736b 0002 0003 0001", b -> {
            NbdOptionPayloads.ExportRequest r = NbdOptionPayloads.parseInfoOrGo(b);
            assertEquals("disk", r.name());
            assertArrayEquals(new int[] {3, 1}, r.infoRequests());
        });
        // the default export: empty name, no info requests
        built("00000000 0000", a -> NbdOptionPayloads.infoOrGo(a, ""));
        with("00000000 0000", b -> {
            NbdOptionPayloads.ExportRequest r = NbdOptionPayloads.parseInfoOrGo(b);
            assertEquals("", r.name());
            assertEquals(0, r.infoRequests().length);
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "", // nothing
        "00000004 6469736b 00", // count cut short
        "00000004 6469736b", // count missing
        "00000004 6469736b 0001", // info request missing
        "00000004 6469736b 0001 0003 00", // one byte left over
        "00000004 6469736b 0000 ff", // one byte left over, no requests
        "00000005 6469736b 0000", // name longer than the data
        "ffffffff 6469736b 0000", // name length huge (unsigned)
        "00000004 6469ff6b 0000", // invalid UTF-8
        "00000004 6469006b 0000", // NUL in the name
    })
    void malformedInfoOrGoDataIsRejected(String hex) {
        with(hex, b -> assertThrows(NbdProtocolException.class, () -> NbdOptionPayloads.parseInfoOrGo(b)));
    }

    @Test
    void namesLongerThanTheStringLimitAreRejected() {
        String name = "n".repeat(NbdConstants.MAX_STRING + 1);
        ByteBuf b = ALLOC.buffer();
        b.writeInt(name.length()).writeBytes(name.getBytes(java.nio.charset.StandardCharsets.US_ASCII)).writeShort(0);
        try {
            assertThrows(NbdProtocolException.class, () -> NbdOptionPayloads.parseInfoOrGo(b));
            assertThrows(NbdProtocolException.class, () -> NbdOptionPayloads.parseExportName(b.slice(4, name.length())));
        } finally {
            b.release();
        }
        assertThrows(IllegalArgumentException.class, () -> NbdOptionPayloads.infoOrGo(ALLOC, name));
        assertThrows(IllegalArgumentException.class, () -> NbdOptionPayloads.infoName(ALLOC, name));
        String atLimit = "é".repeat(NbdConstants.MAX_STRING / 2);
        ByteBuf ok = NbdOptionPayloads.infoOrGo(ALLOC, atLimit);
        try {
            assertEquals(atLimit, NbdOptionPayloads.parseInfoOrGo(ok).name());
        } finally {
            ok.release();
        }
    }

    // ---- meta contexts ----

    @Test
    void metaContextQueryBuildsAndParsesTheSpecLayout() {
        String setBase = "00000004 6469736b 00000001 0000000f 626173653a616c6c6f636174696f6e";
        built(setBase, a -> NbdOptionPayloads.metaContextQuery(a, "disk", NbdConstants.META_BASE_ALLOCATION));
        with(setBase, b -> {
            NbdOptionPayloads.MetaContextRequest r = NbdOptionPayloads.parseMetaContext(b);
            assertEquals("disk", r.exportName());
            assertEquals(List.of("base:allocation"), r.queries());
        });
        built("00000004 6469736b 00000000", a -> NbdOptionPayloads.metaContextQuery(a, "disk"));
        with("00000004 6469736b 00000000", b -> assertEquals(List.of(),
                NbdOptionPayloads.parseMetaContext(b).queries()));
        with("00000000 00000002 00000005 626173653a 00000000", b -> {
            NbdOptionPayloads.MetaContextRequest r = NbdOptionPayloads.parseMetaContext(b);
            assertEquals("", r.exportName());
            assertEquals(List.of("base:", ""), r.queries());
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "", // nothing
        "00000004 6469736b", // query count missing
        "00000004 6469736b 000000", // query count cut short
        "00000004 6469736b 00000001", // the announced query is missing
        "00000004 6469736b 00000001 00000005 626173", // query shorter than announced
        "00000004 6469736b 00000000 00", // one byte left over
        "00000004 6469736b 00000001 00000001 61 00", // one byte left over after the query
        "00000004 6469736b ffffffff 00000000", // a count that cannot fit
        "00000009 6469736b 00000000", // name longer than the data
        "00000004 6469736b 00000001 00000002 ff61", // invalid UTF-8 in the query
    })
    void malformedMetaContextDataIsRejected(String hex) {
        with(hex, b -> assertThrows(NbdProtocolException.class, () -> NbdOptionPayloads.parseMetaContext(b)));
    }

    @Test
    void metaContextReplyBuildsAndParses() {
        String reply = "00000001 626173653a616c6c6f636174696f6e";
        built(reply, a -> NbdOptionPayloads.metaContext(a, 1, "base:allocation"));
        with(reply, b -> assertEquals(new NbdOptionPayloads.MetaContextRecord(1, "base:allocation"),
                NbdOptionPayloads.parseMetaContextReply(b)));
        with("000000", b -> assertThrows(NbdProtocolException.class,
                () -> NbdOptionPayloads.parseMetaContextReply(b)));
    }

    // ---- export name, server, error message ----

    @Test
    void exportNameIsTheWholeData() {
        with("6469736b", b -> assertEquals("disk", NbdOptionPayloads.parseExportName(b)));
        with("", b -> assertEquals("", NbdOptionPayloads.parseExportName(b)));
        with("64ff", b -> assertThrows(NbdProtocolException.class, () -> NbdOptionPayloads.parseExportName(b)));
    }

    @Test
    void serverReplyBuildsAndParses() {
        built("00000004 6469736b 74686520646973 6b", a -> NbdOptionPayloads.server(a, "disk", "the disk"));
        built("00000004 6469736b", a -> NbdOptionPayloads.server(a, "disk", null));
        with("00000004 6469736b", b -> assertEquals(new NbdOptionPayloads.ServerRecord("disk", ""),
                NbdOptionPayloads.parseServer(b)));
        with("00000005 6469736b", b -> assertThrows(NbdProtocolException.class,
                () -> NbdOptionPayloads.parseServer(b)));
    }

    @Test
    void errorMessageIsUtf8CutAtTheLimit() {
        built("6e6f20c3a9", a -> NbdOptionPayloads.errorMessage(a, "no é"));
        ByteBuf b = NbdOptionPayloads.errorMessage(ALLOC, "x".repeat(5000));
        assertEquals(NbdConstants.MAX_STRING, b.readableBytes());
        b.release();
    }

    // ---- INFO records ----

    @Test
    void infoRecordsBuildAndParse() {
        built("0000 0000000040000000 006d", a -> NbdOptionPayloads.infoExport(a, 1L << 30, 0x6d));
        with("0000 ffffffffffffffff ffff", b -> {
            NbdOptionPayloads.InfoRecord r = NbdOptionPayloads.parseInfo(b);
            assertEquals(NbdConstants.INFO_EXPORT, r.type());
            assertEquals(-1L, r.size(), "size is u64: all ones is 2^64-1");
            assertEquals(0xffff, r.flags());
        });
        built("0001 6469736b", a -> NbdOptionPayloads.infoName(a, "disk"));
        with("0001 6469736b", b -> assertEquals("disk", NbdOptionPayloads.parseInfo(b).text()));
        built("0002 61206469736b", a -> NbdOptionPayloads.infoDescription(a, "a disk"));
        with("0002", b -> assertEquals("", NbdOptionPayloads.parseInfo(b).text()));
        built("0003 00000200 00001000 02000000", a -> NbdOptionPayloads.infoBlockSize(a, 512, 4096, 32 << 20));
        with("0003 00000200 00001000 02000000", b -> {
            NbdOptionPayloads.InfoRecord r = NbdOptionPayloads.parseInfo(b);
            assertEquals(512, r.minBlock());
            assertEquals(4096, r.preferredBlock());
            assertEquals(32 << 20, r.maxBlock());
        });
        with("0009 01020304", b -> {
            NbdOptionPayloads.InfoRecord r = NbdOptionPayloads.parseInfo(b);
            assertEquals(9, r.type());
            assertNull(r.text());
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "", "00",
        "0000 0000000040000000 00", // EXPORT of 11 bytes
        "0000 0000000040000000 006d 00", // EXPORT of 13 bytes
        "0003 00000200 00001000 020000", // BLOCK_SIZE of 13 bytes
        "0003 00000200 00001000 02000000 00", // BLOCK_SIZE of 15 bytes
    })
    void malformedInfoRepliesAreRejected(String hex) {
        with(hex, b -> assertThrows(NbdProtocolException.class, () -> NbdOptionPayloads.parseInfo(b)));
    }
}
