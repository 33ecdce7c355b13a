package io.mpathnbd.core.tls;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Pre-shared keys for TLS-PSK, read from a file in the format GnuTLS's {@code psktool} writes and nbdkit
 * ({@code --tls-psk}), qemu ({@code tls-creds-psk,dir=}, file {@code keys.psk}) and libnbd ({@code tls-psk-file})
 * read: one {@code username:hexkey} line per user, for instance {@code alice:91a754b5...}.
 *
 * <p>Rules: empty lines (and a trailing CR) are ignored; a username is non-empty UTF-8 without {@code :}; a key is
 * a non-empty, even number of hex digits; a username appears once. A line that breaks them fails the whole file
 * with a message that names the file and line number and never echoes the line, since it may hold a key.
 *
 * <p>Keys never leave this object except as fresh copies through {@link #key}; {@link #toString} names only the
 * file and the number of users.
 */
public final class PskFile {
    /** psktool accepts at most 512-byte keys. */
    static final int MAX_KEY_BYTES = 512;

    private final Path source;
    private final Map<String, byte[]> keys;

    private PskFile(Path source, Map<String, byte[]> keys) {
        this.source = source;
        this.keys = keys;
    }

    /** Reads and checks {@code file}; the message of the exception names the file and, for bad lines, the line. */
    public static PskFile read(Path file) throws TlsConfigException {
        Objects.requireNonNull(file, "file");
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new TlsConfigException("PSK file " + file + ": cannot read: " + e.getMessage(), e);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new TlsConfigException("PSK file " + file + ": not UTF-8 text");
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
        Map<String, byte[]> keys = new LinkedHashMap<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
            if (line.isEmpty()) {
                continue;
            }
            String where = "PSK file " + file + " line " + (i + 1) + ": ";
            int colon = line.indexOf(':');
            if (colon < 0) {
                throw new TlsConfigException(where + "expected username:hexkey");
            }
            String user = line.substring(0, colon);
            if (user.isEmpty()) {
                throw new TlsConfigException(where + "empty username");
            }
            if (keys.containsKey(user)) {
                throw new TlsConfigException(where + "username " + printable(user) + " appears a second time");
            }
            keys.put(user, hexKey(line, colon + 1, where + "user " + printable(user) + ": "));
        }
        if (keys.isEmpty()) {
            throw new TlsConfigException("PSK file " + file + ": no username:hexkey line");
        }
        return new PskFile(file, Collections.unmodifiableMap(keys));
    }

    private static byte[] hexKey(String line, int start, String where) throws TlsConfigException {
        int digits = line.length() - start;
        if (digits == 0) {
            throw new TlsConfigException(where + "empty key");
        }
        if (digits % 2 != 0) {
            throw new TlsConfigException(where + "key has an odd number of hex digits");
        }
        if (digits / 2 > MAX_KEY_BYTES) {
            throw new TlsConfigException(where + "key longer than " + MAX_KEY_BYTES + " bytes");
        }
        byte[] key = new byte[digits / 2];
        for (int i = 0; i < key.length; i++) {
            int high = Character.digit(line.charAt(start + 2 * i), 16);
            int low = Character.digit(line.charAt(start + 2 * i + 1), 16);
            if (high < 0 || low < 0) {
                Arrays.fill(key, (byte) 0);
                throw new TlsConfigException(where + "key is not hexadecimal");
            }
            key[i] = (byte) (high << 4 | low);
        }
        return key;
    }

    /** A username as it may appear in a message: control characters escaped, at most 64 characters. */
    private static String printable(String user) {
        StringBuilder out = new StringBuilder("'");
        user.codePoints().limit(64).forEach(c -> {
            if (Character.isISOControl(c)) {
                out.append(String.format("\\x%02x", c));
            } else {
                out.appendCodePoint(c);
            }
        });
        return out.append(user.codePointCount(0, user.length()) > 64 ? "...'" : "'").toString();
    }

    /** The file the keys were read from. */
    public Path source() {
        return source;
    }

    /** The usernames, in file order. */
    public Set<String> users() {
        return keys.keySet();
    }

    /** A copy of {@code user}'s key, or empty for a user the file does not list. */
    public Optional<byte[]> key(String user) {
        byte[] key = keys.get(user);
        return key == null ? Optional.empty() : Optional.of(key.clone());
    }

    @Override
    public String toString() {
        return "PskFile[" + source + ", " + keys.size() + (keys.size() == 1 ? " user]" : " users]");
    }
}
