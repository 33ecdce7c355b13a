package io.mpathnbd.core.tls;

/** TLS material that cannot be used: a missing, unreadable or unparseable file. The message names the file. */
public final class TlsConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    public TlsConfigException(String message) {
        super(message);
    }

    public TlsConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
