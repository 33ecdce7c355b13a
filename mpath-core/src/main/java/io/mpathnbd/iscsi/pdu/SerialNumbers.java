package io.mpathnbd.iscsi.pdu;

/**
 * RFC 1982 serial number arithmetic on 32 bits, as RFC 7143 requires for CmdSN, StatSN and DataSN. Two numbers
 * exactly 2^31 apart are neither less nor greater than each other.
 */
public final class SerialNumbers {
    private SerialNumbers() {
    }

    /** s1 &lt; s2 in serial arithmetic. */
    public static boolean lessThan(int s1, int s2) {
        return s2 - s1 > 0;
    }

    /** s1 &gt; s2 in serial arithmetic. */
    public static boolean greaterThan(int s1, int s2) {
        return s1 - s2 > 0;
    }

    public static boolean lessOrEqual(int s1, int s2) {
        return s1 == s2 || lessThan(s1, s2);
    }

    public static boolean greaterOrEqual(int s1, int s2) {
        return s1 == s2 || greaterThan(s1, s2);
    }

    /**
     * Whether {@code cmdSN} may be sent: ExpCmdSN &lt;= cmdSN &lt;= MaxCmdSN. With MaxCmdSN = ExpCmdSN - 1 the window
     * is closed and nothing may be sent (except immediate commands, which do not advance CmdSN).
     */
    public static boolean inWindow(int cmdSN, int expCmdSN, int maxCmdSN) {
        return greaterOrEqual(cmdSN, expCmdSN) && lessOrEqual(cmdSN, maxCmdSN);
    }

    /**
     * Whether a received ExpCmdSN/MaxCmdSN pair is usable: RFC 7143 4.2.2.1 says to ignore both when MaxCmdSN &lt;
     * ExpCmdSN - 1.
     */
    public static boolean validWindow(int expCmdSN, int maxCmdSN) {
        return !lessThan(maxCmdSN, expCmdSN - 1);
    }
}
