package io.mpathnbd.iscsi.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.iscsi.pdu.TextKeys;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The RFC 7143 result functions and the operational key table, without a target. */
class NegotiationTest {
    private static final IscsiSessionConfig NORMAL = IscsiSessionConfig.defaults("iqn.2026-11.io.mpathnbd:init",
            "iqn.2026-11.io.mpathnbd:test", InetSocketAddress.createUnresolved("127.0.0.1", 3260),
            IscsiSessionConfig.randomIsid());

    @Test
    void resultFunctions() {
        assertEquals("100", KeyFunction.MIN.resolve("k", "100", "200"));
        assertEquals("100", KeyFunction.MIN.resolve("k", "200", "0x64"));
        assertEquals("200", KeyFunction.MAX.resolve("k", "100", "200"));
        assertEquals("Yes", KeyFunction.OR.resolve("k", "No", "Yes"));
        assertEquals("No", KeyFunction.OR.resolve("k", "No", "No"));
        assertEquals("No", KeyFunction.AND.resolve("k", "Yes", "No"));
        assertEquals("Yes", KeyFunction.AND.resolve("k", "Yes", "Yes"));
        assertEquals("CRC32C", KeyFunction.LIST.resolve("k", "CRC32C,None", "CRC32C"));
        assertEquals("None", KeyFunction.LIST.resolve("k", "None", "CRC32C,None"));
        assertEquals("CRC32C", KeyFunction.LIST.resolve("k", "CRC32C,None", "CRC32C,None"));
        assertThrows(IllegalArgumentException.class, () -> KeyFunction.LIST.resolve("k", "None", "CRC32C"));
        assertThrows(IllegalArgumentException.class, () -> KeyFunction.OR.resolve("k", "No", "maybe"));
        assertThrows(IllegalArgumentException.class, () -> KeyFunction.MIN.resolve("k", "1", "-5"));
    }

    @Test
    void offerMatchesThePlan() {
        Map<String, String> offer = new OperationalKeys(NORMAL.withDataDigest(true)).offer().stream()
                .collect(Collectors.toMap(TextKeys.Pair::key, TextKeys.Pair::value));
        assertEquals("None", offer.get("HeaderDigest"));
        assertEquals("CRC32C,None", offer.get("DataDigest"));
        assertEquals("262144", offer.get("MaxRecvDataSegmentLength"));
        assertEquals("No", offer.get("InitialR2T"));
        assertEquals("Yes", offer.get("ImmediateData"));
        assertEquals("16777215", offer.get("MaxBurstLength"));
        assertEquals("262144", offer.get("FirstBurstLength"));
        assertEquals("1", offer.get("MaxOutstandingR2T"));
        assertEquals("0", offer.get("ErrorRecoveryLevel"));
        assertEquals("1", offer.get("MaxConnections"));
        assertEquals("Yes", offer.get("DataPDUInOrder"));
        assertEquals("Yes", offer.get("DataSequenceInOrder"));
        assertEquals("0", offer.get("DefaultTime2Wait"));
        assertEquals("0", offer.get("DefaultTime2Retain"));
        Map<String, String> discovery = new OperationalKeys(NORMAL.withTargetName(null)).offer().stream()
                .collect(Collectors.toMap(TextKeys.Pair::key, TextKeys.Pair::value));
        assertEquals(Map.of("HeaderDigest", "None", "DataDigest", "None", "MaxRecvDataSegmentLength", "262144"),
                discovery);
    }

    @Test
    void tgtStyleAnswersGiveTgtsParameters() {
        OperationalKeys keys = new OperationalKeys(NORMAL.withHeaderDigest(true).withDataDigest(true));
        List<TextKeys.Pair> replies = keys.accept(TextKeys.of("HeaderDigest", "CRC32C", "DataDigest", "CRC32C",
                "MaxRecvDataSegmentLength", "8192", "InitialR2T", "Yes", "ImmediateData", "Yes", "MaxBurstLength",
                "262144", "FirstBurstLength", "65536", "MaxOutstandingR2T", "1", "ErrorRecoveryLevel", "0",
                "MaxConnections", "1", "DataPDUInOrder", "Yes", "DataSequenceInOrder", "Yes", "DefaultTime2Wait",
                "2", "DefaultTime2Retain", "0", "TargetAlias", "disk", "TargetPortalGroupTag", "1"));
        assertTrue(replies.isEmpty());
        NegotiatedParameters p = keys.result(7);
        assertTrue(p.headerDigest());
        assertTrue(p.dataDigest());
        assertEquals(262144, p.maxRecvDataSegmentLength());
        assertEquals(8192, p.maxSendDataSegmentLength());
        assertTrue(p.initialR2T());
        assertTrue(p.immediateData());
        assertEquals(262144, p.maxBurstLength());
        assertEquals(65536, p.firstBurstLength());
        assertEquals(1, p.maxOutstandingR2T());
        assertEquals(0, p.errorRecoveryLevel());
        assertEquals(7, p.tsih());
        assertEquals("disk", p.targetAlias());
        assertEquals(1, p.targetPortalGroupTag());
    }

    @Test
    void refusalsAndSilenceKeepDefaultsAndTargetOffersAreAnswered() {
        OperationalKeys keys = new OperationalKeys(NORMAL);
        List<TextKeys.Pair> replies = keys.accept(TextKeys.of("ImmediateData", "Reject", "InitialR2T",
                "NotUnderstood", "X-vendor.Thing", "5", "MaxBurstLength", "Irrelevant"));
        assertEquals(List.of(new TextKeys.Pair("X-vendor.Thing", "NotUnderstood")), replies);
        NegotiatedParameters p = keys.result(1);
        assertTrue(p.immediateData()); // default Yes
        assertTrue(p.initialR2T()); // default Yes
        assertEquals(262144, p.maxBurstLength()); // default
        assertEquals(65536, p.firstBurstLength()); // not answered: default
        assertEquals(8192, p.maxSendDataSegmentLength()); // not declared: default
        assertNull(p.targetAlias());

        OperationalKeys discovery = new OperationalKeys(NORMAL.withTargetName(null));
        assertEquals(List.of(new TextKeys.Pair("MaxBurstLength", "4096")),
                discovery.accept(TextKeys.of("MaxBurstLength", "4096")));
    }

    @Test
    void impossibleAnswersAreRefused() {
        OperationalKeys digestless = new OperationalKeys(NORMAL);
        assertThrows(IllegalArgumentException.class, () -> digestless.accept(TextKeys.of("HeaderDigest", "CRC32C")));
        OperationalKeys erl = new OperationalKeys(NORMAL);
        erl.accept(TextKeys.of("ErrorRecoveryLevel", "0", "MaxRecvDataSegmentLength", "100"));
        assertThrows(IllegalArgumentException.class, () -> erl.result(1));
        OperationalKeys firstAboveMax = new OperationalKeys(NORMAL);
        firstAboveMax.accept(TextKeys.of("MaxBurstLength", "65536", "FirstBurstLength", "262144"));
        assertEquals(65536, firstAboveMax.result(1).firstBurstLength());
        assertFalse(firstAboveMax.result(1).headerDigest());
    }

    @Test
    void cmdSnWindow() {
        CmdSnWindow w = new CmdSnWindow(10, 10, 11);
        assertTrue(w.isOpen());
        assertEquals(10, w.take());
        assertEquals(11, w.take());
        assertFalse(w.isOpen());
        assertEquals(12, w.peek());
        assertFalse(w.update(11, 8)); // invalid window (MaxCmdSN < ExpCmdSN - 1): ignored
        assertFalse(w.isOpen());
        assertTrue(w.update(12, 12));
        assertTrue(w.isOpen());
        assertFalse(w.update(11, 11)); // never backwards
        assertEquals(12, w.expCmdSN());
        assertEquals(12, w.maxCmdSN());
        CmdSnWindow wrap = new CmdSnWindow(-1, -1, 5);
        assertEquals(-1, wrap.take());
        assertEquals(0, wrap.take());
        assertTrue(wrap.isOpen());
    }

    @Test
    void lunsUseSingleLevelAddressing() {
        assertEquals(0L, Luns.encode(0));
        assertEquals(0x0001_0000_0000_0000L, Luns.encode(1));
        assertEquals(0x00ff_0000_0000_0000L, Luns.encode(255));
        assertEquals(0x4101_0000_0000_0000L, Luns.encode(257));
        assertThrows(IllegalArgumentException.class, () -> Luns.encode(16384));
    }

    @Test
    void taskTagsSkipTheReservedValueAndTagsInUse() {
        TaskTable table = new TaskTable(-2);
        assertEquals(-2, table.newTag());
        assertEquals(0, table.newTag()); // 0xffffffff skipped
        TaskTable busy = new TaskTable(5);
        busy.add(new ActiveTask(ScsiTask.noData(0, new byte[6]), null, null, 0, 6, 0));
        assertEquals(5, busy.newTag());
        assertEquals(7, busy.newTag());
    }

    @Test
    void sendTargetsAnswersBecomeTargets() {
        List<DiscoveredTarget> t = IscsiConnection.SendTargets.parse(TextKeys.of("TargetName", "iqn.a",
                "TargetAddress", "127.0.0.1:3260,1", "TargetAddress", "127.0.0.2:3261,1", "TargetName", "iqn.b"));
        assertEquals(List.of(new DiscoveredTarget("iqn.a", List.of("127.0.0.1:3260,1", "127.0.0.2:3261,1")),
                new DiscoveredTarget("iqn.b", List.of())), t);
    }
}
