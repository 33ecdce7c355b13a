package io.mpathnbd.core.support;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throwaway certificate authority for TLS tests: CA, server and client certificates on ECDSA P-256 keys,
 * written as PEM in the file layout nbdkit, qemu and libnbd read from a directory
 * ({@code ca-cert.pem}, {@code server-cert.pem}, {@code server-key.pem}, {@code client-cert.pem},
 * {@code client-key.pem}). Keys are PKCS#8, which GnuTLS, OpenSSL and the JDK all load.
 *
 * <p>Each {@code TestPki} is its own CA, so a second instance is "the wrong CA" for the first.
 */
public final class TestPki {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final java.security.Provider BC = new org.bouncycastle.jce.provider.BouncyCastleProvider();
    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());
    private static final Duration VALID = Duration.ofDays(2);

    private final KeyPair caKeys;
    private final X509Certificate caCert;

    /** A certificate and its private key. */
    public record Issued(X509Certificate certificate, KeyPair keys) {
        public String certificatePem() {
            return pem(certificate);
        }

        public String keyPem() {
            return pem(keys.getPrivate());
        }

        /** The subject in RFC 2253 form, as {@link javax.security.auth.x500.X500Principal#getName()} gives it. */
        public String subject() {
            return certificate.getSubjectX500Principal().getName();
        }
    }

    public TestPki(String caName) {
        try {
            caKeys = newKeys();
            X500Name name = name(caName);
            Instant now = Instant.now();
            JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                    name, serial(), Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(VALID)),
                    name, caKeys.getPublic());
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            builder.addExtension(Extension.keyUsage, true,
                    new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            builder.addExtension(Extension.subjectKeyIdentifier, false,
                    ext.createSubjectKeyIdentifier(caKeys.getPublic()));
            caCert = sign(builder, caKeys);
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot create test CA", e);
        }
    }

    public X509Certificate caCertificate() {
        return caCert;
    }

    public String caPem() {
        return pem(caCert);
    }

    /** A server certificate for {@code localhost} and the given IP addresses (127.0.0.1 if none). */
    public Issued server(String... ipAddresses) {
        return issue("localhost", true, false, ipAddresses);
    }

    /** A client certificate with the given common name. */
    public Issued client(String commonName) {
        return issue(commonName, false, false);
    }

    /** A server certificate whose validity ended yesterday. */
    public Issued expiredServer() {
        return issue("localhost", true, true);
    }

    /** A client certificate whose validity ended yesterday. */
    public Issued expiredClient(String commonName) {
        return issue(commonName, false, true);
    }

    /** A server certificate that names only {@code host} (DNS), for host-name mismatch tests. */
    public Issued serverFor(String host) {
        return issue(host, true, false, new String[0], host);
    }

    /**
     * Writes {@code dir/ca-cert.pem}, {@code server-cert.pem}, {@code server-key.pem} and, when {@code client} is
     * not null, {@code client-cert.pem} and {@code client-key.pem}; returns {@code dir}.
     */
    public Path writeDirectory(Path dir, Issued server, Issued client) {
        try {
            Files.createDirectories(dir);
            write(dir.resolve("ca-cert.pem"), caPem());
            if (server != null) {
                write(dir.resolve("server-cert.pem"), server.certificatePem());
                write(dir.resolve("server-key.pem"), server.keyPem());
            }
            if (client != null) {
                write(dir.resolve("client-cert.pem"), client.certificatePem());
                write(dir.resolve("client-key.pem"), client.keyPem());
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Issued issue(String commonName, boolean server, boolean expired, String... ipAddresses) {
        return issue(commonName, server, expired, ipAddresses, server ? "localhost" : null);
    }

    private Issued issue(String commonName, boolean server, boolean expired, String[] ipAddresses, String dnsName) {
        try {
            KeyPair keys = newKeys();
            Instant now = Instant.now();
            Instant notBefore = expired ? now.minus(Duration.ofDays(3)) : now.minus(Duration.ofHours(1));
            Instant notAfter = expired ? now.minus(Duration.ofDays(1)) : now.plus(VALID);
            JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                    caCert, serial(), Date.from(notBefore), Date.from(notAfter), name(commonName),
                    keys.getPublic());
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                    server ? KeyPurposeId.id_kp_serverAuth : KeyPurposeId.id_kp_clientAuth));
            builder.addExtension(Extension.authorityKeyIdentifier, false,
                    ext.createAuthorityKeyIdentifier(caCert));
            builder.addExtension(Extension.subjectKeyIdentifier, false,
                    ext.createSubjectKeyIdentifier(keys.getPublic()));
            List<GeneralName> names = new ArrayList<>();
            if (dnsName != null) {
                names.add(new GeneralName(GeneralName.dNSName, dnsName));
            }
            if (server) {
                String[] ips = ipAddresses.length == 0 && dnsName != null && dnsName.equals("localhost")
                        ? new String[] {"127.0.0.1"} : ipAddresses;
                for (String ip : ips) {
                    names.add(new GeneralName(GeneralName.iPAddress, ip));
                }
            }
            if (!names.isEmpty()) {
                builder.addExtension(Extension.subjectAlternativeName, false,
                        new GeneralNames(names.toArray(GeneralName[]::new)));
            }
            return new Issued(sign(builder, caKeys), keys);
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot issue test certificate for " + commonName, e);
        }
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair signer)
            throws GeneralSecurityException {
        try {
            ContentSigner contentSigner = new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate());
            return new JcaX509CertificateConverter().getCertificate(builder.build(contentSigner));
        } catch (org.bouncycastle.operator.OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private static KeyPair newKeys() throws GeneralSecurityException {
        // Bouncy Castle's encoding keeps the public key inside the PKCS#8 blob; GnuTLS refuses the JDK's without it
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC", BC);
        generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return generator.generateKeyPair();
    }

    /** O first in ASN.1 order, so the RFC 2253 form (last first) reads {@code CN=name,O=mpath-nbd tests}. */
    private static X500Name name(String commonName) {
        return new X500Name("O=mpath-nbd tests,CN=" + commonName);
    }

    private static BigInteger serial() {
        return BigInteger.valueOf(SERIAL.incrementAndGet());
    }

    private static String pem(Object object) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(object instanceof java.security.PrivateKey key
                    ? new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(key, null).generate() : object);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    private static void write(Path file, String text) throws IOException {
        Files.writeString(file, text);
    }
}
