package io.mpathnbd.iscsi.session;

/** Parsing and formatting of iSCSI key values (RFC 7143 6.1: numbers in decimal or 0x hex, Yes/No booleans). */
final class TextValues {
    static final String YES = "Yes";
    static final String NO = "No";
    static final String NONE = "None";
    static final String CRC32C = "CRC32C";
    static final String REJECT = "Reject";
    static final String IRRELEVANT = "Irrelevant";
    static final String NOT_UNDERSTOOD = "NotUnderstood";

    private TextValues() {
    }

    /** An unsigned number of at most 32 bits that fits an int (the keys here stay below 2^31). */
    static int number(String value, String key) {
        try {
            long n;
            if (value.startsWith("0x") || value.startsWith("0X")) {
                n = Long.parseLong(value.substring(2), 16);
            } else {
                n = Long.parseLong(value);
            }
            if (n < 0 || n > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(key + "=" + value + " out of range");
            }
            return (int) n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + "=" + value + " is not a number");
        }
    }

    static boolean bool(String value, String key) {
        if (YES.equals(value)) {
            return true;
        }
        if (NO.equals(value)) {
            return false;
        }
        throw new IllegalArgumentException(key + "=" + value + " is not Yes or No");
    }

    static String bool(boolean value) {
        return value ? YES : NO;
    }

    /** Reject, Irrelevant and NotUnderstood: the key keeps its default. */
    static boolean isRefusal(String value) {
        return REJECT.equals(value) || IRRELEVANT.equals(value) || NOT_UNDERSTOOD.equals(value);
    }
}
