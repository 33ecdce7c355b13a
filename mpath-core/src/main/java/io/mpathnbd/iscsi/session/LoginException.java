package io.mpathnbd.iscsi.session;

import java.io.IOException;

/**
 * The target refused the login (status class and detail as it sent them), or the login broke in a way that is the
 * operator's to fix (mutual CHAP verification failed). Configuration errors are not path flaps: retrying them
 * quickly only floods the target.
 */
public final class LoginException extends IOException {
    private static final long serialVersionUID = 1L;

    /** Status class used for failures detected by the initiator itself (no status from the target). */
    public static final int LOCAL = -1;

    private final int statusClass;
    private final int statusDetail;
    private final boolean configurationError;

    public LoginException(String message, int statusClass, int statusDetail) {
        this(message, statusClass, statusDetail, isConfigurationStatus(statusClass, statusDetail));
    }

    public LoginException(String message, int statusClass, int statusDetail, boolean configurationError) {
        super(message);
        this.statusClass = statusClass;
        this.statusDetail = statusDetail;
        this.configurationError = configurationError;
    }

    /** The target's status class (1 redirect, 2 initiator error, 3 target error), or {@link #LOCAL}. */
    public int statusClass() {
        return statusClass;
    }

    public int statusDetail() {
        return statusDetail;
    }

    /** Authentication, authorization, target not found, or a failed CHAP verification. */
    public boolean isConfigurationError() {
        return configurationError;
    }

    /** Class 2 detail 1 (authentication failure), 2 (authorization failure), 3 (not found). */
    static boolean isConfigurationStatus(int statusClass, int statusDetail) {
        return statusClass == 2 && statusDetail >= 1 && statusDetail <= 3;
    }
}
