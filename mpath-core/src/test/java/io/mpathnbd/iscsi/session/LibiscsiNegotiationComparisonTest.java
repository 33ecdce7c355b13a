package io.mpathnbd.iscsi.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.mpathnbd.iscsi.scsi.Cdbs;
import io.mpathnbd.testing.Tgtd;
import io.mpathnbd.testing.peers.Tools;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Our login negotiation against libiscsi's (the reference initiator, {@code iscsi-inq} with {@code LIBISCSI_DEBUG=10})
 * on the same real tgtd. libiscsi's debug output lists the target's answers ({@code TargetLoginReply: KEY=VALUE})
 * but not its own offers, so both initiators log in through a recording relay ({@link LoginRecorder}) that captures
 * the offers on the wire; the debug output's answers must equal the recorded ones.
 *
 * <p>libiscsi's result per key is the RFC 7143 result function applied to its offer and the target's answer (an
 * independent implementation in this test, not our {@link KeyFunction}); ours is what {@link NegotiatedParameters}
 * says, and must both follow the same rule for our own exchange and equal libiscsi's result, except where our offer
 * differs from libiscsi's on purpose (listed per test with the reason). The first PDU after login of each direction is
 * checked for CRC32C digests, so the digest results are the ones both sides actually applied.
 */
class LibiscsiNegotiationComparisonTest {
    private static final Logger LOG = LoggerFactory.getLogger(LibiscsiNegotiationComparisonTest.class);
    private static final String INITIATOR = "iqn.2026-11.io.mpathnbd:negcompare";
    private static final String LIBISCSI_INITIATOR = "iqn.2026-11.io.mpathnbd:negcompare-libiscsi";
    private static final long IMAGE_SIZE = 16L << 20;
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String MRDSL = "MaxRecvDataSegmentLength";
    /** Data the target may send us: what the initiator declared. */
    private static final String MRDSL_TO_INITIATOR = MRDSL + " (target->initiator)";
    /** Data we may send the target: what the target declared. */
    private static final String MRDSL_TO_TARGET = MRDSL + " (initiator->target)";
    private static final String RFC_DEFAULT_MRDSL = "8192";
    /** {@code libiscsi:6 TargetLoginReply: InitialR2T=Yes [iqn...]} */
    private static final Pattern REPLY = Pattern.compile("^libiscsi:\\d+ TargetLoginReply: ([^=\\s]+)=(.*?)"
            + "(?: \\[[^\\]]*\\])?$");

    private enum Rule { LIST, MIN, MAX, OR, AND }

    private record KeySpec(Rule rule, String rfcDefault) {
    }

    /** RFC 7143 sections 13.x: result function and default of each compared key (MaxRecvDataSegmentLength aside). */
    private static final Map<String, KeySpec> KEYS = new LinkedHashMap<>();

    static {
        KEYS.put("HeaderDigest", new KeySpec(Rule.LIST, "None"));
        KEYS.put("DataDigest", new KeySpec(Rule.LIST, "None"));
        KEYS.put("MaxBurstLength", new KeySpec(Rule.MIN, "262144"));
        KEYS.put("FirstBurstLength", new KeySpec(Rule.MIN, "65536"));
        KEYS.put("InitialR2T", new KeySpec(Rule.OR, "Yes"));
        KEYS.put("ImmediateData", new KeySpec(Rule.AND, "Yes"));
        KEYS.put("MaxOutstandingR2T", new KeySpec(Rule.MIN, "1"));
        KEYS.put("ErrorRecoveryLevel", new KeySpec(Rule.MIN, "0"));
        KEYS.put("DataPDUInOrder", new KeySpec(Rule.OR, "Yes"));
        KEYS.put("DataSequenceInOrder", new KeySpec(Rule.OR, "Yes"));
        KEYS.put("MaxConnections", new KeySpec(Rule.MIN, "1"));
        KEYS.put("DefaultTime2Wait", new KeySpec(Rule.MAX, "2"));
        KEYS.put("DefaultTime2Retain", new KeySpec(Rule.MIN, "20"));
    }

    /** Every compared row, in table order. */
    private static final List<String> ROWS = rows();

    private static EventLoopGroup group;

    @TempDir
    Path dir;
    private Tgtd tgtd;
    private LoginRecorder recorder;
    private int recordedConnections;

    /**
     * One initiator's login. {@code offers}/{@code answers}: the keys as exchanged (compared rows only);
     * {@code results}: what the initiator ended with per row.
     */
    private record Negotiation(String who, Map<String, String> offers, Map<String, String> answers,
            Map<String, String> results) {
    }

    @BeforeAll
    static void loops() {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    @AfterAll
    static void stopLoops() throws Exception {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (recorder != null) {
            recorder.close();
        }
        if (tgtd != null) {
            tgtd.close();
        }
    }

    @Test
    void defaultTargetGivesTheSameResultsAsLibiscsi() throws Exception {
        startTarget();
        Negotiation libiscsi = libiscsiLogin("");
        Negotiation ours = ourLogin(config());
        compare(libiscsi, ours, Map.of());
        assertEquals("None", ours.results().get("HeaderDigest"));
        assertEquals("None", ours.results().get("DataDigest"));
    }

    @Test
    void crc32cTargetGivesLibiscsisHeaderDigestAndTheRfcDataDigest() throws Exception {
        startTarget();
        // tgt negotiates digests only when the target is configured for them (as in IscsiConnectionTgtdTest)
        tgtd.tgtadm("--op", "update", "--mode", "target", "--tid", "1", "--name", "HeaderDigest", "--value", "CRC32C");
        tgtd.tgtadm("--op", "update", "--mode", "target", "--tid", "1", "--name", "DataDigest", "--value", "CRC32C");
        // libiscsi 1.19 accepts ?header_digest=crc32c in the URL, yet iscsi-inq offers HeaderDigest=None,CRC32C with
        // or without it, and libiscsi has no data digest at all: it always offers DataDigest=None. So libiscsi gets
        // a header digest here only because tgt picks CRC32C from its list, and it cannot be made to request a data
        // digest.
        Negotiation libiscsi = libiscsiLogin("?header_digest=crc32c");
        assertEquals("CRC32C", libiscsi.results().get("HeaderDigest"), "tgt set to CRC32C picks it from libiscsi's list");

        // our digest offers as close to libiscsi's as our config allows: header CRC32C,None and data None
        Negotiation sameOffers = ourLogin(config().withHeaderDigest(true).withDataDigest(false));
        compare(libiscsi, sameOffers, Map.of());

        // with a data digest requested, the result differs from libiscsi's on purpose (compare() checks the rule)
        Negotiation both = ourLogin(config().withHeaderDigest(true).withDataDigest(true));
        compare(libiscsi, both, Map.of("DataDigest", "we offer CRC32C,None, libiscsi only None; tgt configured "
                + "for CRC32C must pick the first supported value of the offer, CRC32C"));
        assertEquals("CRC32C", both.results().get("DataDigest"));
        assertEquals("None", libiscsi.results().get("DataDigest"));
    }

    private void startTarget() throws Exception {
        Tools.require("iscsi-inq");
        Path image = dir.resolve("lun1.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(IMAGE_SIZE);
        }
        tgtd = Tgtd.start(image);
        recorder = LoginRecorder.start(tgtd.portal(0));
    }

    private IscsiSessionConfig config() {
        return IscsiSessionConfig.defaults(INITIATOR, Tgtd.IQN, recorder.address(), IscsiSessionConfig.randomIsid())
                .withNopInterval(Duration.ZERO);
    }

    /** iscsi-inq through the recorder: answers from its debug output, offers from the wire. */
    private Negotiation libiscsiLogin(String urlOptions) throws Exception {
        InetSocketAddress a = recorder.address();
        String url = "iscsi://" + a.getHostString() + ":" + a.getPort() + "/" + Tgtd.IQN + "/1" + urlOptions;
        Tools.Result r = Tools.run(WAIT, Map.of("LIBISCSI_DEBUG", "10"), "iscsi-inq", "-i", LIBISCSI_INITIATOR, url);
        assertEquals(0, r.exitCode(), () -> "iscsi-inq failed: " + r.describe());
        Map<String, String> debugAnswers = parseDebugOutput(r.stderr() + "\n" + r.stdout());
        LoginRecorder.LoginExchange wire = LoginRecorder.parse(recorder.awaitClosed(recordedConnections++, WAIT));
        assertTrue(wire.fullFeature(), "libiscsi's login did not reach full feature phase");
        // the debug output and the recorded stream are two views of the same answers
        assertEquals(wire.targetKeys(), debugAnswers,
                "libiscsi's TargetLoginReply lines differ from the answers recorded on the wire");
        Map<String, String> offers = compared(wire.initiatorKeys(), true);
        Map<String, String> answers = compared(debugAnswers, false);
        Map<String, String> results = new LinkedHashMap<>();
        for (String row : ROWS) {
            results.put(row, rfcResult(row, offers, answers, "libiscsi"));
        }
        checkDigestsOnTheWire("libiscsi", wire, results);
        return new Negotiation("libiscsi", offers, answers, results);
    }

    /**
     * The keys libiscsi's debug output reports the target answered; fails when there are none or the login did not
     * succeed, so a changed output format cannot pass unnoticed.
     */
    private static Map<String, String> parseDebugOutput(String output) {
        Map<String, String> answers = new LinkedHashMap<>();
        boolean loggedIn = false;
        for (String line : output.split("\n")) {
            Matcher m = REPLY.matcher(line.strip());
            if (m.matches()) {
                answers.put(m.group(1), m.group(2));
            } else if (line.contains("login successful")) {
                loggedIn = true;
            }
        }
        if (answers.isEmpty() || !loggedIn) {
            fail("cannot parse libiscsi's LIBISCSI_DEBUG=10 output (expected 'TargetLoginReply: KEY=VALUE' lines and"
                    + " 'login successful'):\n" + output);
        }
        return answers;
    }

    /** Our login through the recorder, one command (so each side sends a full-feature PDU), logout. */
    private Negotiation ourLogin(IscsiSessionConfig cfg) throws Exception {
        IscsiConnection c = IscsiConnection.login(cfg, group.next(), NioSocketChannel.class)
                .get(WAIT.toSeconds(), TimeUnit.SECONDS);
        NegotiatedParameters p = c.negotiated();
        CompletableFuture<Object> done = new CompletableFuture<>();
        c.execute(ScsiTask.noData(1, Cdbs.testUnitReady()), new ScsiCallback() {
            @Override
            public void completed(ScsiResult result) {
                result.release();
                done.complete(null);
            }

            @Override
            public void failed(TaskFailure failure) {
                done.completeExceptionally(new AssertionError("TEST UNIT READY failed: " + failure));
            }
        });
        done.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        c.logout().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        LoginRecorder.LoginExchange wire = LoginRecorder.parse(recorder.awaitClosed(recordedConnections++, WAIT));
        assertTrue(wire.fullFeature(), "our login did not reach full feature phase on the wire");
        Map<String, String> offers = compared(wire.initiatorKeys(), true);
        Map<String, String> answers = compared(wire.targetKeys(), false);

        Map<String, String> fromParameters = new LinkedHashMap<>();
        fromParameters.put("HeaderDigest", p.headerDigest() ? "CRC32C" : "None");
        fromParameters.put("DataDigest", p.dataDigest() ? "CRC32C" : "None");
        fromParameters.put(MRDSL_TO_INITIATOR, Integer.toString(p.maxRecvDataSegmentLength()));
        fromParameters.put(MRDSL_TO_TARGET, Integer.toString(p.maxSendDataSegmentLength()));
        fromParameters.put("MaxBurstLength", Integer.toString(p.maxBurstLength()));
        fromParameters.put("FirstBurstLength", Integer.toString(p.firstBurstLength()));
        fromParameters.put("InitialR2T", yesNo(p.initialR2T()));
        fromParameters.put("ImmediateData", yesNo(p.immediateData()));
        fromParameters.put("MaxOutstandingR2T", Integer.toString(p.maxOutstandingR2T()));
        fromParameters.put("ErrorRecoveryLevel", Integer.toString(p.errorRecoveryLevel()));

        Map<String, String> results = new LinkedHashMap<>();
        for (String row : ROWS) {
            String rule = rfcResult(row, offers, answers, "our initiator");
            String ours = fromParameters.get(row);
            if (ours == null) {
                // not exposed by NegotiatedParameters (the login fails unless in-order data results, see
                // OperationalKeys.result); its wire result is what both sides run with
                results.put(row, rule);
            } else {
                assertEquals(rule, ours, () -> "our negotiation of " + row + " disagrees with RFC 7143: offered "
                        + offers.get(row) + ", target answered " + answers.get(row) + ", rule gives " + rule
                        + ", NegotiatedParameters says " + ours);
                results.put(row, ours);
            }
        }
        checkDigestsOnTheWire("our initiator", wire, results);
        return new Negotiation("ours", offers, answers, results);
    }

    /**
     * Every row equal, except the {@code expectedDifferences} (row -> why): there the offers must differ too (else the
     * exception is unjustified) and each side's result already follows the RFC rule for its own exchange.
     */
    private static void compare(Negotiation libiscsi, Negotiation ours, Map<String, String> expectedDifferences) {
        LOG.info("negotiation compared with libiscsi against tgtd:\n{}", table(libiscsi, ours, expectedDifferences));
        List<String> mismatches = new ArrayList<>();
        for (String row : ROWS) {
            String a = ours.results().get(row);
            String b = libiscsi.results().get(row);
            String why = expectedDifferences.get(row);
            if (why != null) {
                assertNotEquals(libiscsi.offers().get(row), ours.offers().get(row),
                        () -> row + " listed as differing on purpose, but both initiators offered the same");
                LOG.info("{} may differ from libiscsi's on purpose ({}): ours {}, libiscsi {}", row, why, a, b);
                continue;
            }
            if (!a.equals(b)) {
                mismatches.add(row + ": ours " + a + " (offered " + ours.offers().get(row) + ", answered "
                        + ours.answers().get(row) + "), libiscsi " + b + " (offered " + libiscsi.offers().get(row)
                        + ", answered " + libiscsi.answers().get(row) + ")");
            }
        }
        assertEquals(List.of(), mismatches, "negotiated results differ from libiscsi's against the same target");
    }

    /**
     * The first PDU after login of each side must carry a valid CRC32C header digest exactly when HeaderDigest=CRC32C
     * resulted; the target's, when it has data (the sense of the first command's UNIT ATTENTION), a data digest
     * exactly when DataDigest=CRC32C resulted.
     */
    private static void checkDigestsOnTheWire(String who, LoginRecorder.LoginExchange wire,
            Map<String, String> results) {
        boolean header = "CRC32C".equals(results.get("HeaderDigest"));
        boolean data = "CRC32C".equals(results.get("DataDigest"));
        assertNotNull(wire.initiatorFirst(), who + " sent nothing after login");
        assertNotNull(wire.targetFirst(), "tgtd sent nothing to " + who + " after login");
        assertEquals(header, wire.initiatorFirst().headerDigestValid(),
                who + ": header digest on its first full-feature PDU vs HeaderDigest=" + results.get("HeaderDigest"));
        assertEquals(header, wire.targetFirst().headerDigestValid(),
                "tgtd to " + who + ": header digest on its first full-feature PDU vs negotiated");
        if (wire.targetFirst().dataLength() > 0) {
            assertEquals(data, wire.targetFirst().dataDigestValid(),
                    "tgtd to " + who + ": data digest on its first full-feature PDU vs DataDigest=" + results.get(
                            "DataDigest"));
        } else {
            LOG.info("tgtd's first PDU to {} has no data: data digest not observable on the wire", who);
        }
    }

    /** The compared rows' values of one direction's keys (MaxRecvDataSegmentLength under its direction's row). */
    private static Map<String, String> compared(Map<String, String> keys, boolean initiatorSide) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String key : KEYS.keySet()) {
            if (keys.containsKey(key)) {
                out.put(key, keys.get(key));
            }
        }
        if (keys.containsKey(MRDSL)) {
            out.put(initiatorSide ? MRDSL_TO_INITIATOR : MRDSL_TO_TARGET, keys.get(MRDSL));
        }
        return out;
    }

    /** RFC 7143's outcome of one row, given the initiator's offers and the target's answers. */
    private static String rfcResult(String row, Map<String, String> offers, Map<String, String> answers,
            String who) {
        if (row.equals(MRDSL_TO_INITIATOR)) {
            return declared(offers.get(row)); // declarative: the initiator's own value
        }
        if (row.equals(MRDSL_TO_TARGET)) {
            return declared(answers.get(row)); // the target's declaration; 8192 when it declares none
        }
        KeySpec spec = KEYS.get(row);
        String offer = offers.get(row);
        String answer = answers.get(row);
        if (offer == null || answer == null || isRefusal(answer)) {
            return spec.rfcDefault(); // not negotiated: the default is in force
        }
        switch (spec.rule()) {
            case LIST:
                if (!List.of(offer.split(",")).contains(answer)) {
                    fail("tgtd answered " + row + "=" + answer + " to " + who + ", not one of the offered " + offer);
                }
                return answer;
            case MIN:
                return Integer.toString(Math.min(number(row, offer), number(row, answer)));
            case MAX:
                return Integer.toString(Math.max(number(row, offer), number(row, answer)));
            case OR:
                return yesNo(bool(row, offer) || bool(row, answer));
            case AND:
            default:
                return yesNo(bool(row, offer) && bool(row, answer));
        }
    }

    private static String declared(String value) {
        return value == null || isRefusal(value) ? RFC_DEFAULT_MRDSL : Integer.toString(Integer.parseInt(value));
    }

    private static boolean isRefusal(String value) {
        return value.equals("Reject") || value.equals("Irrelevant") || value.equals("NotUnderstood");
    }

    private static int number(String key, String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new AssertionError(key + "=" + value + " is not a number");
        }
    }

    private static boolean bool(String key, String value) {
        if (value.equals("Yes") || value.equals("No")) {
            return value.equals("Yes");
        }
        throw new AssertionError(key + "=" + value + " is neither Yes nor No");
    }

    private static String yesNo(boolean b) {
        return b ? "Yes" : "No";
    }

    private static List<String> rows() {
        List<String> rows = new ArrayList<>();
        rows.add("HeaderDigest");
        rows.add("DataDigest");
        rows.add(MRDSL_TO_INITIATOR);
        rows.add(MRDSL_TO_TARGET);
        KEYS.keySet().stream().filter(k -> !k.endsWith("Digest")).forEach(rows::add);
        return List.copyOf(rows);
    }

    private static String table(Negotiation libiscsi, Negotiation ours, Map<String, String> expectedDifferences) {
        StringBuilder sb = new StringBuilder(String.format("%-42s | %-13s %-13s %-9s | %-13s %-13s %-9s | %s%n",
                "key", "our offer", "tgt answer", "OUR RES", "lib offer", "tgt answer", "LIB RES", "note"));
        for (String row : ROWS) {
            String a = ours.results().get(row);
            String b = libiscsi.results().get(row);
            sb.append(String.format("%-42s | %-13s %-13s %-9s | %-13s %-13s %-9s | %s%n", row,
                    dash(ours.offers().get(row)), dash(ours.answers().get(row)), a,
                    dash(libiscsi.offers().get(row)), dash(libiscsi.answers().get(row)), b,
                    a.equals(b) ? "same" : expectedDifferences.containsKey(row) ? "differs on purpose" : "MISMATCH"));
        }
        return sb.toString();
    }

    private static String dash(String v) {
        return v == null ? "-" : v;
    }
}
