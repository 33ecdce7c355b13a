package io.mpathnbd.iscsi.session;

/** Words for the Login Response status classes and details of RFC 7143 11.13.5. */
final class LoginStatus {
    private LoginStatus() {
    }

    static String describe(int statusClass, int statusDetail) {
        return text(statusClass, statusDetail) + " (status " + statusClass + "/" + statusDetail + ")";
    }

    private static String text(int c, int d) {
        switch (c) {
            case 1:
                return d == 1 ? "target moved temporarily" : d == 2 ? "target moved permanently" : "redirected";
            case 2:
                switch (d) {
                    case 0: return "initiator error";
                    case 1: return "authentication failed";
                    case 2: return "authorization failed (initiator not allowed)";
                    case 3: return "target not found";
                    case 4: return "target removed";
                    case 5: return "unsupported iSCSI version";
                    case 6: return "too many connections";
                    case 7: return "missing parameter";
                    case 8: return "cannot include connection in session";
                    case 9: return "session type not supported";
                    case 10: return "session does not exist";
                    case 11: return "invalid request during login";
                    default: return "initiator error";
                }
            case 3:
                switch (d) {
                    case 1: return "target service unavailable";
                    case 2: return "target out of resources";
                    default: return "target error";
                }
            default:
                return "unknown status";
        }
    }
}
