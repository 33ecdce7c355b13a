package io.mpathnbd.nbd.backend;

import io.mpathnbd.core.backend.TransportOptions;

/**
 * The TLS keys of {@link TransportOptions} for {@code nbds://} paths (set from the config's {@code backend-tls:}
 * sections and {@code serve --backend-tls-certificates}). A directory gives the libnbd/qemu file names; a file key
 * wins over the directory's file. Plain {@code nbd://} paths ignore them.
 */
public final class NbdTlsOptions {
    /** Directory with {@code ca-cert.pem} and optionally {@code client-cert.pem}, {@code client-key.pem}. */
    public static final String CERTIFICATES = "nbd.tls-certificates";
    public static final String CA_FILE = "nbd.tls-ca-file";
    public static final String CERT_FILE = "nbd.tls-cert-file";
    public static final String KEY_FILE = "nbd.tls-key-file";
    /** The name the server's certificate must carry, when it is not the URI's host. */
    public static final String HOSTNAME = "nbd.tls-hostname";

    private NbdTlsOptions() {
    }
}
