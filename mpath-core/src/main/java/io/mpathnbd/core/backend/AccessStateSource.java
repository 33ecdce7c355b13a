package io.mpathnbd.core.backend;

import java.util.function.Consumer;

/**
 * Optional interface of a {@link BackendSession} whose target reports the path's access state itself (SCSI ALUA).
 * While such a session is a path's live session, the path follows what it reports; the operator's configured state
 * may still demote the path (see {@code Path#accessState()}).
 */
public interface AccessStateSource {

    /** The state the target reports now, or null if it reports none (then the operator's state applies alone). */
    AccessState accessState();

    /**
     * Registers the listener told of every later change (from any thread, never under a lock the listener could
     * need). One listener per session is enough: the path registers once, when it accepts the session.
     */
    void onAccessStateChange(Consumer<AccessState> listener);
}
