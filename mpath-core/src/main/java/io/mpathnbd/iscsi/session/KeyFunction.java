package io.mpathnbd.iscsi.session;

import java.util.Arrays;
import java.util.List;

/**
 * The RFC 7143 result functions of negotiated keys (section 6.2): the outcome is the same whichever side offered, so
 * one implementation answers a target's offer and checks a target's answer to ours.
 */
enum KeyFunction {
    /** Comma-separated preference list: the responder picks the first of the offer it supports. */
    LIST,
    /** Numerical, the smaller value wins. */
    MIN,
    /** Numerical, the larger value wins. */
    MAX,
    /** Boolean, Yes if either side says Yes. */
    OR,
    /** Boolean, Yes only if both sides say Yes. */
    AND,
    /** Each side declares its own value; nothing is negotiated (MaxRecvDataSegmentLength). */
    DECLARATIVE;

    /**
     * The negotiated value given our value (for LIST: our acceptable values in order of preference) and the peer's
     * (for LIST as answer: the single value it chose; as offer: its list). Throws IllegalArgumentException when the
     * peer's value is malformed or, for LIST, when nothing is acceptable.
     */
    String resolve(String key, String ours, String theirs) {
        switch (this) {
            case LIST: {
                List<String> acceptable = split(ours);
                for (String candidate : split(theirs)) {
                    if (acceptable.contains(candidate)) {
                        return candidate;
                    }
                }
                throw new IllegalArgumentException(key + "=" + theirs + " is none of " + ours);
            }
            case MIN:
                return Integer.toString(Math.min(TextValues.number(ours, key), TextValues.number(theirs, key)));
            case MAX:
                return Integer.toString(Math.max(TextValues.number(ours, key), TextValues.number(theirs, key)));
            case OR:
                return TextValues.bool(TextValues.bool(ours, key) || TextValues.bool(theirs, key));
            case AND:
                return TextValues.bool(TextValues.bool(ours, key) && TextValues.bool(theirs, key));
            case DECLARATIVE:
            default:
                return theirs;
        }
    }

    private static List<String> split(String list) {
        return Arrays.asList(list.split(","));
    }
}
