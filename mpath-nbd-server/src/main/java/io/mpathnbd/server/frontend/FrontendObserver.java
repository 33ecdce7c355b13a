package io.mpathnbd.server.frontend;

/** Hooks for metrics and logs on client connections. All default to nothing; they must not block. */
public interface FrontendObserver {
    FrontendObserver NONE = new FrontendObserver() {
    };

    /** A client connection was accepted. */
    default void connectionOpened() {
    }

    /** A client connection ended. */
    default void connectionClosed() {
    }

    /** A client entered transmission on an export. */
    default void clientAttached(String exportName) {
    }

    /** A client left transmission on an export. */
    default void clientDetached(String exportName) {
    }

    /**
     * A client asked for an export its access list does not let it attach (the name is a configured export's, never
     * a name a client made up).
     */
    default void accessRefused(String exportName) {
    }

    /** A TLS handshake after NBD_OPT_STARTTLS ended, successfully or not. */
    default void tlsHandshake(boolean ok) {
    }

    /** A connection was closed for a protocol violation or a limit (reason for the log/metric tag). */
    default void protocolError(String reason) {
    }
}
