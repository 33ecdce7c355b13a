package io.mpathnbd.iscsi.session;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ChapTest {
    private static final byte[] CHALLENGE = new byte[16];

    static {
        for (int i = 0; i < 16; i++) {
            CHALLENGE[i] = (byte) i;
        }
    }

    @Test
    void responseIsMd5OfIdentifierSecretChallengeInThatOrder() {
        // reference values from python3 hashlib: md5(bytes([0x2a]) + b'verysecret12' + bytes(range(16)))
        assertEquals("0xb5e5a5d3d38e9640bc77e68c57fce2ba", Chap.encode(Chap.response(0x2a, "verysecret12", CHALLENGE)));
        // the secret-first order gives md5(b'verysecret12' + bytes([0x2a]) + ...) = e2c96edd...: not what we send
        assertFalse(Chap.encode(Chap.response(0x2a, "verysecret12", CHALLENGE)).contains("e2c96edd"));
    }

    @Test
    void binaryValuesDecodeFromHexAndBase64() {
        assertArrayEquals(new byte[] {0x01, (byte) 0xab}, Chap.decode("0x01ab"));
        assertArrayEquals(new byte[] {0x01, (byte) 0xab}, Chap.decode("0X1AB"));
        assertArrayEquals(new byte[] {1, 2, 3}, Chap.decode("0bAQID"));
        assertThrows(IllegalArgumentException.class, () -> Chap.decode("1234"));
        assertThrows(IllegalArgumentException.class, () -> Chap.decode("0xzz"));
        assertEquals("0x0001ff", Chap.encode(new byte[] {0, 1, (byte) 0xff}));
        assertArrayEquals(CHALLENGE, Chap.decode(Chap.encode(CHALLENGE)));
    }

    @Test
    void identifierIsAByte() {
        assertEquals(7, Chap.identifier("7"));
        assertEquals(255, Chap.identifier("0xff"));
        assertThrows(IllegalArgumentException.class, () -> Chap.identifier("256"));
        assertThrows(IllegalArgumentException.class, () -> Chap.identifier("x"));
    }

    @Test
    void challengesAreFreshAndVerificationIsExact() {
        byte[] a = Chap.newChallenge();
        byte[] b = Chap.newChallenge();
        assertEquals(Chap.CHALLENGE_LENGTH, a.length);
        assertFalse(java.util.Arrays.equals(a, b));
        byte[] r = Chap.response(3, "s3cret-s3cret", a);
        assertTrue(Chap.matches(r, Chap.response(3, "s3cret-s3cret", a)));
        assertFalse(Chap.matches(r, Chap.response(4, "s3cret-s3cret", a)));
        assertFalse(Chap.matches(r, Chap.response(3, "s3cret-s3creT", a)));
    }

    @Test
    void secretsNeverShowInToString() {
        ChapSecret s = new ChapSecret("alice", "top-secret-value");
        assertFalse(s.toString().contains("top-secret-value"));
        IscsiSessionConfig c = IscsiSessionConfig.defaults("iqn.x", "iqn.y",
                java.net.InetSocketAddress.createUnresolved("h", 3260), 1).withChap(s)
                .withMutualChap(new ChapSecret("target", "other-secret-1"));
        assertFalse(c.toString().contains("top-secret-value"));
        assertFalse(c.toString().contains("other-secret-1"));
    }
}
