package io.mpathnbd.iscsi.session;

import io.mpathnbd.iscsi.pdu.PduSettings;
import io.mpathnbd.iscsi.pdu.TextKeys;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The operational keys of one login: what this initiator offers (ImmediateData, no InitialR2T, large bursts, one
 * outstanding R2T, error recovery level 0, one connection, in-order data, no waits), the target's answers and
 * offers, and the resulting {@link NegotiatedParameters}. A key the target answers with Reject, Irrelevant or
 * NotUnderstood, or does not answer at all, keeps its RFC 7143 default. Keys the target offers on its own get an
 * answer computed with the same result functions.
 */
final class OperationalKeys {
    static final String HEADER_DIGEST = "HeaderDigest";
    static final String DATA_DIGEST = "DataDigest";
    static final String MAX_RECV_DATA_SEGMENT_LENGTH = "MaxRecvDataSegmentLength";
    static final String INITIAL_R2T = "InitialR2T";
    static final String IMMEDIATE_DATA = "ImmediateData";
    static final String MAX_BURST_LENGTH = "MaxBurstLength";
    static final String FIRST_BURST_LENGTH = "FirstBurstLength";
    static final String MAX_OUTSTANDING_R2T = "MaxOutstandingR2T";
    static final String ERROR_RECOVERY_LEVEL = "ErrorRecoveryLevel";
    static final String MAX_CONNECTIONS = "MaxConnections";
    static final String DATA_PDU_IN_ORDER = "DataPDUInOrder";
    static final String DATA_SEQUENCE_IN_ORDER = "DataSequenceInOrder";
    static final String DEFAULT_TIME2WAIT = "DefaultTime2Wait";
    static final String DEFAULT_TIME2RETAIN = "DefaultTime2Retain";
    static final String TARGET_ALIAS = "TargetAlias";
    static final String TARGET_PORTAL_GROUP_TAG = "TargetPortalGroupTag";
    static final String TARGET_ADDRESS = "TargetAddress";

    private record Key(KeyFunction function, String defaultValue) {
    }

    private static final Map<String, Key> TABLE = new HashMap<>();

    static {
        TABLE.put(HEADER_DIGEST, new Key(KeyFunction.LIST, TextValues.NONE));
        TABLE.put(DATA_DIGEST, new Key(KeyFunction.LIST, TextValues.NONE));
        TABLE.put(MAX_RECV_DATA_SEGMENT_LENGTH, new Key(KeyFunction.DECLARATIVE,
                Integer.toString(PduSettings.DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH)));
        TABLE.put(INITIAL_R2T, new Key(KeyFunction.OR, TextValues.YES));
        TABLE.put(IMMEDIATE_DATA, new Key(KeyFunction.AND, TextValues.YES));
        TABLE.put(MAX_BURST_LENGTH, new Key(KeyFunction.MIN, "262144"));
        TABLE.put(FIRST_BURST_LENGTH, new Key(KeyFunction.MIN, "65536"));
        TABLE.put(MAX_OUTSTANDING_R2T, new Key(KeyFunction.MIN, "1"));
        TABLE.put(ERROR_RECOVERY_LEVEL, new Key(KeyFunction.MIN, "0"));
        TABLE.put(MAX_CONNECTIONS, new Key(KeyFunction.MIN, "1"));
        TABLE.put(DATA_PDU_IN_ORDER, new Key(KeyFunction.OR, TextValues.YES));
        TABLE.put(DATA_SEQUENCE_IN_ORDER, new Key(KeyFunction.OR, TextValues.YES));
        TABLE.put(DEFAULT_TIME2WAIT, new Key(KeyFunction.MAX, "2"));
        TABLE.put(DEFAULT_TIME2RETAIN, new Key(KeyFunction.MIN, "20"));
        // RFC 3720 keys that RFC 7143 dropped; older targets (tgt) still offer them
        TABLE.put("IFMarker", new Key(KeyFunction.AND, TextValues.NO));
        TABLE.put("OFMarker", new Key(KeyFunction.AND, TextValues.NO));
    }

    private final IscsiSessionConfig config;
    /** Our values, in the order offered; for list keys the acceptable values in order of preference. */
    private final Map<String, String> ours = new LinkedHashMap<>();
    private final Map<String, String> results = new HashMap<>();
    private String targetAlias;
    private int targetPortalGroupTag = -1;

    OperationalKeys(IscsiSessionConfig config) {
        this.config = config;
        ours.put(HEADER_DIGEST, config.headerDigest() ? TextValues.CRC32C + "," + TextValues.NONE : TextValues.NONE);
        ours.put(DATA_DIGEST, config.dataDigest() ? TextValues.CRC32C + "," + TextValues.NONE : TextValues.NONE);
        ours.put(MAX_RECV_DATA_SEGMENT_LENGTH, Integer.toString(config.maxRecvDataSegmentLength()));
        if (!config.discovery()) {
            // irrelevant in a discovery session (RFC 7143 13): offered only for normal sessions
            ours.put(INITIAL_R2T, TextValues.NO);
            ours.put(IMMEDIATE_DATA, TextValues.YES);
            ours.put(MAX_BURST_LENGTH, Integer.toString(config.maxBurstLength()));
            ours.put(FIRST_BURST_LENGTH, Integer.toString(config.firstBurstLength()));
            ours.put(MAX_OUTSTANDING_R2T, "1");
            ours.put(ERROR_RECOVERY_LEVEL, "0");
            ours.put(MAX_CONNECTIONS, "1");
            ours.put(DATA_PDU_IN_ORDER, TextValues.YES);
            ours.put(DATA_SEQUENCE_IN_ORDER, TextValues.YES);
            ours.put(DEFAULT_TIME2WAIT, "0");
            ours.put(DEFAULT_TIME2RETAIN, "0");
        }
    }

    /** The keys of our first operational request. */
    List<TextKeys.Pair> offer() {
        List<TextKeys.Pair> list = new ArrayList<>(ours.size());
        ours.forEach((k, v) -> list.add(new TextKeys.Pair(k, v)));
        return list;
    }

    /**
     * Takes the target's keys of one (complete) response: answers to our offers, declarations, and offers of its
     * own. Returns the answers owed to the target's own offers (empty if none). Throws IllegalArgumentException for a
     * malformed or impossible answer.
     */
    List<TextKeys.Pair> accept(TextKeys keys) {
        List<TextKeys.Pair> replies = new ArrayList<>();
        for (Map.Entry<String, String> e : keys.toMap().entrySet()) {
            String key = e.getKey();
            String value = e.getValue();
            switch (key) {
                case TARGET_ALIAS:
                    targetAlias = value;
                    continue;
                case TARGET_PORTAL_GROUP_TAG:
                    targetPortalGroupTag = TextValues.number(value, key);
                    continue;
                case TARGET_ADDRESS:
                    continue; // only meaningful with a redirect, which the login layer reports
                default:
                    break;
            }
            Key spec = TABLE.get(key);
            if (spec == null) {
                if (!TextValues.isRefusal(value)) {
                    replies.add(new TextKeys.Pair(key, TextValues.NOT_UNDERSTOOD));
                }
                continue;
            }
            if (spec.function() == KeyFunction.DECLARATIVE) {
                if (!TextValues.isRefusal(value)) {
                    results.put(key, Integer.toString(TextValues.number(value, key)));
                }
                continue;
            }
            boolean offeredByUs = ours.containsKey(key);
            if (TextValues.isRefusal(value)) {
                results.put(key, spec.defaultValue());
                continue;
            }
            if (results.containsKey(key) && offeredByUs) {
                continue; // a repeated answer changes nothing
            }
            String mine = offeredByUs ? ours.get(key) : ourPreference(key);
            String result = spec.function().resolve(key, mine, value);
            results.put(key, result);
            if (!offeredByUs) {
                replies.add(new TextKeys.Pair(key, result));
            }
        }
        return replies;
    }

    /** Our value for a key the target offers although we did not (a discovery session's session-wide keys). */
    private String ourPreference(String key) {
        switch (key) {
            case INITIAL_R2T:
                return TextValues.NO;
            case IMMEDIATE_DATA:
            case DATA_PDU_IN_ORDER:
            case DATA_SEQUENCE_IN_ORDER:
                return TextValues.YES;
            case MAX_BURST_LENGTH:
                return Integer.toString(config.maxBurstLength());
            case FIRST_BURST_LENGTH:
                return Integer.toString(config.firstBurstLength());
            case "IFMarker":
            case "OFMarker":
                return TextValues.NO;
            case DEFAULT_TIME2WAIT:
            case DEFAULT_TIME2RETAIN:
            case ERROR_RECOVERY_LEVEL:
                return "0";
            default:
                return TABLE.get(key).defaultValue();
        }
    }

    private String value(String key) {
        String v = results.get(key);
        return v != null ? v : TABLE.get(key).defaultValue();
    }

    private int number(String key) {
        return TextValues.number(value(key), key);
    }

    private boolean bool(String key) {
        return TextValues.bool(value(key), key);
    }

    /** The parameters in force after the final Login Response carrying {@code tsih}. */
    NegotiatedParameters result(int tsih) {
        int maxSend = number(MAX_RECV_DATA_SEGMENT_LENGTH);
        if (maxSend < PduSettings.MIN_DATA_SEGMENT_LENGTH || maxSend > PduSettings.MAX_DATA_SEGMENT_LENGTH) {
            throw new IllegalArgumentException("target's MaxRecvDataSegmentLength " + maxSend + " is out of range");
        }
        int maxBurst = number(MAX_BURST_LENGTH);
        int firstBurst = Math.min(number(FIRST_BURST_LENGTH), maxBurst);
        int erl = number(ERROR_RECOVERY_LEVEL);
        if (erl != 0) {
            throw new IllegalArgumentException("ErrorRecoveryLevel " + erl + " although 0 was offered");
        }
        if (!bool(DATA_PDU_IN_ORDER) || !bool(DATA_SEQUENCE_IN_ORDER)) {
            throw new IllegalArgumentException("out-of-order data is not supported");
        }
        return new NegotiatedParameters(TextValues.CRC32C.equals(value(HEADER_DIGEST)),
                TextValues.CRC32C.equals(value(DATA_DIGEST)), config.maxRecvDataSegmentLength(), maxSend, maxBurst,
                firstBurst, bool(INITIAL_R2T), bool(IMMEDIATE_DATA), Math.max(1, number(MAX_OUTSTANDING_R2T)), erl,
                tsih, targetAlias, targetPortalGroupTag);
    }
}
