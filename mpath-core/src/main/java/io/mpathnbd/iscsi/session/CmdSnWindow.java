package io.mpathnbd.iscsi.session;

import io.mpathnbd.iscsi.pdu.SerialNumbers;

/**
 * The session's command numbering: the next CmdSN and the target's window [ExpCmdSN, MaxCmdSN]. Non-immediate
 * commands take a number and may only be sent inside the window; immediate PDUs carry the next number without
 * taking it. Windows that fail RFC 7143's sanity rule are ignored, and a window never moves backwards.
 */
final class CmdSnWindow {
    private int next;
    private int expCmdSN;
    private int maxCmdSN;

    CmdSnWindow(int next, int expCmdSN, int maxCmdSN) {
        this.next = next;
        this.expCmdSN = expCmdSN;
        this.maxCmdSN = SerialNumbers.validWindow(expCmdSN, maxCmdSN) ? maxCmdSN : expCmdSN;
    }

    /** Whether a non-immediate command may be sent now. */
    boolean isOpen() {
        return SerialNumbers.inWindow(next, expCmdSN, maxCmdSN);
    }

    /** Takes the next CmdSN for a non-immediate command (the caller checked {@link #isOpen()}). */
    int take() {
        return next++;
    }

    /** The CmdSN an immediate PDU carries (not taken). */
    int peek() {
        return next;
    }

    /** Applies ExpCmdSN/MaxCmdSN from a received PDU; true when the window now admits a command it did not before. */
    boolean update(int exp, int max) {
        if (!SerialNumbers.validWindow(exp, max)) {
            return false;
        }
        boolean wasOpen = isOpen();
        if (SerialNumbers.greaterThan(exp, expCmdSN)) {
            expCmdSN = exp;
        }
        if (SerialNumbers.greaterThan(max, maxCmdSN)) {
            maxCmdSN = max;
        }
        return !wasOpen && isOpen();
    }

    int expCmdSN() {
        return expCmdSN;
    }

    int maxCmdSN() {
        return maxCmdSN;
    }

    @Override
    public String toString() {
        return "CmdSN " + Integer.toUnsignedString(next) + " window [" + Integer.toUnsignedString(expCmdSN) + ", "
                + Integer.toUnsignedString(maxCmdSN) + "]";
    }
}
