package io.mpathnbd.core.tls;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Where one side's PEM files are: the CA that verifies the peer, and this side's own certificate and key.
 *
 * <p>A directory gives the names nbdkit ({@code --tls-certificates}), qemu ({@code tls-creds-x509,dir=}) and libnbd
 * ({@code tls-certificates=}) use: {@code ca-cert.pem}, and {@code server-cert.pem}/{@code server-key.pem} or
 * {@code client-cert.pem}/{@code client-key.pem}, so operators can point the gateway at the directory they already
 * have. A file that is absent from the directory is simply not used; {@link #check} says what a role needs.
 *
 * @param ca       CA certificates (PEM) that verify the peer; empty: the server does not verify clients, and a
 *                 client cannot be built
 * @param cert     this side's certificate chain (PEM); empty for a client without a certificate
 * @param key      this side's private key (PEM, PKCS#8, unencrypted); present exactly when {@code cert} is
 */
public record CertificateFiles(Optional<Path> ca, Optional<Path> cert, Optional<Path> key) {
    public static final String CA = "ca-cert.pem";

    public CertificateFiles {
        Objects.requireNonNull(ca, "ca");
        Objects.requireNonNull(cert, "cert");
        Objects.requireNonNull(key, "key");
    }

    /** The server-role files of {@code dir}: {@code ca-cert.pem}, {@code server-cert.pem}, {@code server-key.pem}. */
    public static CertificateFiles serverDirectory(Path dir) {
        return inDirectory(dir, "server");
    }

    /** The client-role files of {@code dir}: {@code ca-cert.pem}, {@code client-cert.pem}, {@code client-key.pem}. */
    public static CertificateFiles clientDirectory(Path dir) {
        return inDirectory(dir, "client");
    }

    private static CertificateFiles inDirectory(Path dir, String role) {
        return new CertificateFiles(present(dir.resolve(CA)), present(dir.resolve(role + "-cert.pem")),
                present(dir.resolve(role + "-key.pem")));
    }

    private static Optional<Path> present(Path file) {
        return Files.exists(file) ? Optional.of(file) : Optional.empty();
    }

    /**
     * Fails with a message naming the missing file when these files cannot serve {@code role}: a server needs a
     * certificate and key (and a CA when it verifies clients); a client needs a CA; a certificate needs its key.
     */
    public CertificateFiles check(Role role, boolean verifyPeer, String where) throws TlsConfigException {
        if (cert.isPresent() != key.isPresent()) {
            throw new TlsConfigException(where + ": " + (cert.isPresent() ? "certificate " + cert.get()
                    + " has no private key" : "private key " + key.get() + " has no certificate"));
        }
        if (role == Role.SERVER && cert.isEmpty()) {
            throw new TlsConfigException(where + ": no server certificate and key (server-cert.pem, server-key.pem)");
        }
        if ((role == Role.CLIENT || verifyPeer) && ca.isEmpty()) {
            throw new TlsConfigException(where + ": no CA certificate (" + CA + ") to verify the peer with");
        }
        for (Optional<Path> file : java.util.List.of(ca, cert, key)) {
            if (file.isPresent() && !Files.isReadable(file.get())) {
                throw new TlsConfigException(where + ": cannot read " + file.get());
            }
        }
        return this;
    }

    /** Which end of the TLS connection these files are for. */
    public enum Role { SERVER, CLIENT }
}
