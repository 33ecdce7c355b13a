package io.mpathnbd.server.tls;

import io.mpathnbd.core.tls.PskFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Vector;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.AlertLevel;
import org.bouncycastle.tls.BasicTlsPSKExternal;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.PRFAlgorithm;
import org.bouncycastle.tls.PSKTlsServer;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.PskIdentity;
import org.bouncycastle.tls.TlsCredentials;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.TlsPSKExternal;
import org.bouncycastle.tls.TlsPSKIdentityManager;
import org.bouncycastle.tls.TlsUtils;
import org.bouncycastle.tls.crypto.TlsCrypto;

/**
 * Bouncy Castle's server side of one TLS-PSK connection: TLS 1.3 with an external PSK ({@code psk_dhe_ke}, the
 * only mode Bouncy Castle implements, which GnuTLS offers by default) and TLS 1.2 with the (EC)DHE-PSK suites, the
 * keys looked up by username in a {@link PskFile}. It remembers which username authenticated, and why a handshake
 * failed, for the handler to report; keys never reach a message.
 */
final class PskServer extends PSKTlsServer {
    /*
     * GnuTLS binds an external PSK to SHA-256, and Bouncy Castle does not yet narrow its TLS 1.3 suite choice to
     * the selected PSK's hash, so only the SHA-256 suites are offered.
     */
    private static final int[] TLS13_SUITES = {
        CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
    };

    /*
     * TLS 1.2, in this order ahead of Bouncy Castle's other (EC)DHE-PSK defaults: the AEAD suites GnuTLS also has,
     * AES-GCM first because the JDK runs it on the CPU's AES and carry-less multiply instructions. Left to the
     * client's order, GnuTLS would pick ECDHE-PSK with AES-CBC and HMAC-SHA1.
     */
    private static final int[] TLS12_PREFERRED = {
        CipherSuite.TLS_DHE_PSK_WITH_AES_128_GCM_SHA256, CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_DHE_PSK_WITH_AES_256_GCM_SHA384, CipherSuite.TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256,
    };

    private final PskFile keys;
    private String identity;
    private String offeredIdentity;
    private boolean handshakeComplete;
    private String failure;

    PskServer(TlsCrypto crypto, PskFile keys) {
        super(crypto, new Keys());
        this.keys = keys;
        ((Keys) pskIdentityManager).server = this;
    }

    @Override
    protected ProtocolVersion[] getSupportedVersions() {
        return ProtocolVersion.TLSv13.downTo(ProtocolVersion.TLSv12);
    }

    @Override
    protected int[] getSupportedCipherSuites() {
        java.util.LinkedHashSet<Integer> order = new java.util.LinkedHashSet<>();
        for (int[] suites : new int[][] {TLS13_SUITES, TLS12_PREFERRED, super.getSupportedCipherSuites()}) {
            for (int suite : TlsUtils.getSupportedCipherSuites(getCrypto(), suites)) {
                order.add(suite);
            }
        }
        return order.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    protected boolean preferLocalCipherSuites() {
        return true;
    }

    /** TLS 1.3: the first offered identity that the file knows. */
    @Override
    @SuppressWarnings("rawtypes") // Bouncy Castle's signature
    public TlsPSKExternal getExternalPSK(Vector identities) {
        for (Object offered : identities) {
            byte[] name = ((PskIdentity) offered).getIdentity();
            byte[] key = lookup(name);
            if (key != null) {
                try {
                    return new BasicTlsPSKExternal(name, getCrypto().createSecret(key),
                            PRFAlgorithm.tls13_hkdf_sha256);
                } finally {
                    Arrays.fill(key, (byte) 0);
                }
            }
        }
        return null;
    }

    /** TLS 1.3 without a known PSK would fall back to certificates, which this server has none of. */
    @Override
    public TlsCredentials getCredentials() throws IOException {
        if (TlsUtils.isTLSv13(context)) {
            throw new TlsFatalAlert(AlertDescription.handshake_failure, offeredIdentity == null
                    ? "client offered no PSK" : "unknown PSK identity " + offeredIdentity);
        }
        return super.getCredentials();
    }

    /** The key of {@code name}, remembering the name; null for an unknown one. */
    private byte[] lookup(byte[] name) {
        String user = new String(name, StandardCharsets.UTF_8);
        offeredIdentity = printable(user);
        byte[] key = keys.key(user).orElse(null);
        if (key != null) {
            identity = user;
        }
        return key;
    }

    @Override
    public void notifyHandshakeComplete() throws IOException {
        super.notifyHandshakeComplete();
        handshakeComplete = true;
    }

    @Override
    public void notifyAlertRaised(short level, short description, String message, Throwable cause) {
        if (level == AlertLevel.fatal && failure == null) {
            failure = "sent " + AlertDescription.getText(description) + (message == null ? "" : ": " + message)
                    + (offeredIdentity == null ? "" : " (identity " + offeredIdentity + ")");
        }
    }

    @Override
    public void notifyAlertReceived(short level, short description) {
        if (level == AlertLevel.fatal && failure == null) {
            failure = "client sent " + AlertDescription.getText(description)
                    + (offeredIdentity == null ? "" : " (identity " + offeredIdentity + ")");
        }
    }

    boolean handshakeComplete() {
        return handshakeComplete;
    }

    /** The username that authenticated; null before the handshake completes. */
    String identity() {
        return handshakeComplete ? identity : null;
    }

    /** "TLSv1.3" or "TLSv1.2" as JSSE names them, and the cipher suite's number; null before completion. */
    String protocolVersion() {
        return handshakeComplete ? (TlsUtils.isTLSv13(context) ? "TLSv1.3" : "TLSv1.2") : null;
    }

    String cipherSuite() {
        return handshakeComplete ? String.format("0x%04x",
                context.getSecurityParametersConnection().getCipherSuite()) : null;
    }

    /** Why the handshake failed, as far as the TLS layer said; null if it did not say. */
    String failure() {
        return failure;
    }

    static String printable(String user) {
        StringBuilder out = new StringBuilder("'");
        user.codePoints().limit(64).forEach(c -> {
            if (Character.isISOControl(c) || c == 0xfffd) {
                out.append(String.format("\\x%02x", c & 0xff));
            } else {
                out.appendCodePoint(c);
            }
        });
        return out.append(user.codePointCount(0, user.length()) > 64 ? "...'" : "'").toString();
    }

    /** TLS 1.2: one key per identity, no hint. */
    private static final class Keys implements TlsPSKIdentityManager {
        private PskServer server;

        @Override
        public byte[] getHint() {
            return null;
        }

        @Override
        public byte[] getPSK(byte[] identity) {
            return server.lookup(identity);
        }
    }
}
