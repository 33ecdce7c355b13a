package io.mpathnbd.server.frontend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.Capability;
import io.mpathnbd.core.request.Extents;
import io.mpathnbd.nbd.protocol.NbdConstants;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Block sizes, transmission flags, meta context queries and block status extents as the spec wants them. */
class NegotiationRulesTest {
    private static final int MIB32 = 32 << 20;

    @Test
    void blockSizesFromAnExportWithDefaults() {
        assertEquals(new BlockSizes(1, 4096, MIB32), BlockSizes.of(1, 4096, MIB32, MIB32));
        assertEquals(new BlockSizes(1, 512, MIB32), BlockSizes.of(0, 0, 0, MIB32));
    }

    @Test
    void blockSizesAreSanitised() {
        // the maximum is cut to the front end's limit and to a multiple of the minimum
        assertEquals(new BlockSizes(4096, 4096, MIB32 - 4096), BlockSizes.of(4096, 512, MIB32 - 1, 64 << 20));
        assertEquals(new BlockSizes(512, 4096, 1 << 20), BlockSizes.of(512, 4096, MIB32, 1 << 20));
        // powers of two are enforced
        assertEquals(new BlockSizes(4, 1024, MIB32), BlockSizes.of(3, 1000, MIB32, MIB32));
        // the preferred size never exceeds the maximum, nor drops under 512
        assertEquals(new BlockSizes(1, 512, 1000), BlockSizes.of(1, 4096, 1000, MIB32));
        assertEquals(new BlockSizes(1, 65536, 100000), BlockSizes.of(1, 1 << 20, 100000, MIB32));
        assertEquals(new BlockSizes(65536, 65536, MIB32), BlockSizes.of(1 << 20, 0, MIB32, MIB32));
    }

    @Test
    void alignment() {
        BlockSizes s = new BlockSizes(512, 4096, MIB32);
        assertTrue(s.aligned(1024, 512));
        assertFalse(s.aligned(1024, 100));
        assertFalse(s.aligned(100, 512));
        assertTrue(new BlockSizes(1, 4096, MIB32).aligned(3, 7));
    }

    @Test
    void transmissionFlagsAreTheCapabilitiesThatAreNbdFlags() {
        int caps = Capability.FLUSH | Capability.FUA | Capability.TRIM | Capability.MULTI_CONN | Capability.CACHE
                | Capability.BLOCK_STATUS | (1 << 9);
        int expected = NbdConstants.TFLAG_HAS_FLAGS | NbdConstants.TFLAG_SEND_FLUSH | NbdConstants.TFLAG_SEND_FUA
                | NbdConstants.TFLAG_SEND_TRIM | NbdConstants.TFLAG_CAN_MULTI_CONN | NbdConstants.TFLAG_SEND_CACHE;
        assertEquals(expected, TransmissionFlags.advertised(caps, true));
        assertEquals(NbdConstants.TFLAG_HAS_FLAGS | NbdConstants.TFLAG_READ_ONLY,
                TransmissionFlags.advertised(Capability.READ_ONLY, false));
    }

    @Test
    void aReadOnlyClientIsOfferedNoCommandThatOnlyWrites() {
        int caps = Capability.FLUSH | Capability.FUA | Capability.TRIM | Capability.WRITE_ZEROES
                | Capability.FAST_ZERO | Capability.CACHE;
        int readOnly = NbdConstants.TFLAG_HAS_FLAGS | NbdConstants.TFLAG_READ_ONLY | NbdConstants.TFLAG_SEND_FLUSH
                | NbdConstants.TFLAG_SEND_FUA | NbdConstants.TFLAG_SEND_CACHE;
        assertEquals(readOnly, TransmissionFlags.advertised(caps, true, true));
        assertEquals(readOnly, TransmissionFlags.advertised(caps | Capability.READ_ONLY, true, false),
                "the same when the paths themselves are read-only");
        assertEquals(NbdConstants.TFLAG_SEND_TRIM, TransmissionFlags.advertised(caps, true, false)
                & NbdConstants.TFLAG_SEND_TRIM);
    }

    @Test
    void dfOnlyWithStructuredRepliesAndFastZeroOnlyWithWriteZeroes() {
        int caps = Capability.DF | Capability.FAST_ZERO;
        assertEquals(NbdConstants.TFLAG_HAS_FLAGS, TransmissionFlags.advertised(caps, false));
        assertEquals(NbdConstants.TFLAG_HAS_FLAGS | NbdConstants.TFLAG_SEND_DF, TransmissionFlags.advertised(caps, true));
        int zero = caps | Capability.WRITE_ZEROES;
        assertEquals(NbdConstants.TFLAG_HAS_FLAGS | NbdConstants.TFLAG_SEND_WRITE_ZEROES
                | NbdConstants.TFLAG_SEND_FAST_ZERO, TransmissionFlags.advertised(zero, false));
    }

    @Test
    void metaContextQueries() {
        List<String> base = List.of("base:allocation");
        assertEquals(base, MetaContexts.listed(List.of(), false));
        assertEquals(base, MetaContexts.listed(List.of("base:"), false));
        assertEquals(base, MetaContexts.listed(List.of("qemu:dirty-bitmap:x", "base:allocation"), false));
        assertEquals(List.of(), MetaContexts.listed(List.of("qemu:", "base:nothing"), false));
        assertEquals(base, MetaContexts.selected(List.of("x-foo:bar", "base:allocation"), false));
        assertEquals(List.of(), MetaContexts.selected(List.of("base:"), false), "the wildcard must not select in SET");
        assertEquals(List.of(), MetaContexts.selected(List.of(), false));
    }

    @Test
    void zoneContextsOnlyForZonedExports() {
        List<String> all = List.of("base:allocation", "x-mpath:zone-type-condition", "x-mpath:write-pointer");
        assertEquals(all, MetaContexts.listed(List.of(), true));
        assertEquals(all.subList(1, 3), MetaContexts.listed(List.of("x-mpath:"), true));
        assertEquals(List.of(), MetaContexts.listed(List.of("x-mpath:"), false));
        assertEquals(List.of("x-mpath:write-pointer"), MetaContexts.selected(List.of("x-mpath:write-pointer"), true));
        assertEquals(List.of(), MetaContexts.selected(List.of("x-mpath:write-pointer"), false));
        assertEquals(List.of(), MetaContexts.selected(List.of("x-mpath:"), true), "no wildcard in SET");
        assertEquals(List.of(), MetaContexts.listed(List.of("x-mpath:nothing"), true));
    }

    @Test
    void extentsThatFitAreKept() {
        Extents e = new Extents(new int[] {4096, 4096}, new int[] {0, 3});
        assertSame(e, ReplyWriter.fit(e, 8192, false));
        assertSame(e, ReplyWriter.fit(e, 16384, false), "fewer than asked is allowed");
    }

    @Test
    void extentsPastTheRequestAreDroppedOrCut() {
        Extents e = new Extents(new int[] {4096, 4096, 4096}, new int[] {0, 3, 0});
        Extents cut = ReplyWriter.fit(e, 6144, false);
        assertEquals(2, cut.count());
        assertEquals(4096, cut.length(0));
        assertEquals(2048, cut.length(1));
        assertEquals(3, cut.flags(1));
    }

    @Test
    void reqOneGivesExactlyOneExtentWithinTheRequest() {
        Extents e = new Extents(new int[] {8192, 4096}, new int[] {3, 0});
        Extents one = ReplyWriter.fit(e, 4096, true);
        assertEquals(1, one.count());
        assertEquals(4096, one.length(0));
        assertEquals(3, one.flags(0));
        Extents shortOne = ReplyWriter.fit(new Extents(new int[] {1024, 1024}, new int[] {0, 3}), 4096, true);
        assertArrayEquals(new int[] {1024}, new int[] {shortOne.length(0)});
        assertEquals(1, shortOne.count());
    }

    @Test
    void zeroLengthExtentsAreDropped() {
        Extents e = new Extents(new int[] {0, 4096, 0}, new int[] {1, 2, 3});
        Extents fixed = ReplyWriter.fit(e, 4096, false);
        assertEquals(1, fixed.count());
        assertEquals(4096, fixed.length(0));
        assertEquals(2, fixed.flags(0));
        Extents none = ReplyWriter.fit(new Extents(new int[] {0}, new int[] {1}), 512, false);
        assertEquals(512, none.length(0));
        assertEquals(0, none.flags(0));
    }

    @Test
    void onlySpecErrorValuesGoOnTheWire() {
        assertEquals(28, ReplyWriter.wireErrno(28));
        assertEquals(95, ReplyWriter.wireErrno(95));
        assertEquals(5, ReplyWriter.wireErrno(0));
        assertEquals(5, ReplyWriter.wireErrno(121));
    }
}
