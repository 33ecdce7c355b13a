package io.mpathnbd.iscsi.session;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * CHAP with MD5 (RFC 1994, algorithm 5 in iSCSI): the response is MD5 over the identifier byte, the secret and the
 * challenge, in that order. Binary values travel as hex ({@code 0x...}) or base64 ({@code 0b...}).
 */
final class Chap {
    /** CHAP_A value for MD5. */
    static final String ALGORITHM_MD5 = "5";
    /** Length of the challenges this initiator sends for mutual CHAP. */
    static final int CHALLENGE_LENGTH = 16;

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private Chap() {
    }

    /** MD5(id || secret || challenge). */
    static byte[] response(int id, byte[] secret, byte[] challenge) {
        MessageDigest md5 = md5();
        md5.update((byte) id);
        md5.update(secret);
        md5.update(challenge);
        return md5.digest();
    }

    static byte[] response(int id, String secret, byte[] challenge) {
        return response(id, secret.getBytes(StandardCharsets.UTF_8), challenge);
    }

    /** Compares in constant time, so a wrong response says nothing about how close it was. */
    static boolean matches(byte[] expected, byte[] received) {
        return MessageDigest.isEqual(expected, received);
    }

    static byte[] newChallenge() {
        byte[] c = new byte[CHALLENGE_LENGTH];
        RANDOM.nextBytes(c);
        return c;
    }

    static int newIdentifier() {
        return RANDOM.nextInt(256);
    }

    /** {@code 0x} followed by lower-case hex digits. */
    static String encode(byte[] value) {
        char[] out = new char[2 + value.length * 2];
        out[0] = '0';
        out[1] = 'x';
        for (int i = 0; i < value.length; i++) {
            out[2 + 2 * i] = HEX[(value[i] >> 4) & 0xf];
            out[3 + 2 * i] = HEX[value[i] & 0xf];
        }
        return new String(out);
    }

    /**
     * Decodes a binary value ({@code 0x} hex, odd digit count allowed with an implied leading zero, or {@code 0b}
     * base64). Throws IllegalArgumentException for anything else.
     */
    static byte[] decode(String value) {
        if (value.length() > 2 && (value.startsWith("0x") || value.startsWith("0X"))) {
            String digits = value.substring(2);
            if ((digits.length() & 1) != 0) {
                digits = "0" + digits;
            }
            byte[] out = new byte[digits.length() / 2];
            for (int i = 0; i < out.length; i++) {
                int hi = Character.digit(digits.charAt(2 * i), 16);
                int lo = Character.digit(digits.charAt(2 * i + 1), 16);
                if (hi < 0 || lo < 0) {
                    throw new IllegalArgumentException("not a hex value: " + abbreviate(value));
                }
                out[i] = (byte) (hi << 4 | lo);
            }
            return out;
        }
        if (value.length() > 2 && (value.startsWith("0b") || value.startsWith("0B"))) {
            return Base64.getDecoder().decode(value.substring(2));
        }
        throw new IllegalArgumentException("not a binary value: " + abbreviate(value));
    }

    /** The CHAP_I value: a decimal (or hex) number 0..255. */
    static int identifier(String value) {
        int id = TextValues.number(value, "CHAP_I");
        if (id < 0 || id > 255) {
            throw new IllegalArgumentException("CHAP_I " + value + " outside 0..255");
        }
        return id;
    }

    private static String abbreviate(String v) {
        return v.length() <= 16 ? v : v.substring(0, 16) + "...";
    }

    private static MessageDigest md5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is required of every Java platform", e);
        }
    }
}
