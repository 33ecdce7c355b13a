package io.mpathnbd.core.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.testing.peers.Tools;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PskFileTest {
    private static final String KEY = "00112233445566778899aabbccddeeff";

    @TempDir
    Path tmp;

    @Test
    void readsWhatPsktoolWrites() throws Exception {
        Tools.require("psktool");
        Path file = tmp.resolve("keys.psk");
        Tools.run(Duration.ofSeconds(30), "psktool", "-u", "alice", "-p", file.toString()).assertOk();
        Tools.run(Duration.ofSeconds(30), "psktool", "-u", "bob", "-s", "16", "-p", file.toString()).assertOk();
        PskFile psk = PskFile.read(file);
        assertEquals(List.of("alice", "bob"), List.copyOf(psk.users()));
        assertEquals(32, psk.key("alice").orElseThrow().length);
        assertEquals(16, psk.key("bob").orElseThrow().length);
        String aliceHex = Files.readAllLines(file).get(0).substring("alice:".length());
        assertArrayEquals(HexFormat.of().parseHex(aliceHex), psk.key("alice").orElseThrow());
        assertTrue(psk.key("carol").isEmpty());
    }

    @Test
    void keysStayOutOfToStringAndCopiesAreIndependent() throws Exception {
        PskFile psk = PskFile.read(write("alice:" + KEY + "\n"));
        assertFalse(psk.toString().contains(KEY), psk.toString());
        assertFalse(psk.toString().toLowerCase().contains("00112233"), psk.toString());
        assertTrue(psk.toString().contains("1 user"), psk.toString());
        byte[] copy = psk.key("alice").orElseThrow();
        copy[0] = 42;
        assertEquals(0, psk.key("alice").orElseThrow()[0]);
    }

    @Test
    void acceptsCrlfUpperCaseHexAndBlankLines() throws Exception {
        PskFile psk = PskFile.read(write("\nalice:" + KEY.toUpperCase() + "\r\n\r\nbob:ab\n"));
        assertArrayEquals(HexFormat.of().parseHex(KEY), psk.key("alice").orElseThrow());
        assertArrayEquals(new byte[] {(byte) 0xab}, psk.key("bob").orElseThrow());
    }

    @Test
    void namesFileAndLineButNeverTheKey() throws Exception {
        assertRejected("alice:" + KEY + "\nbob" + KEY + "\n", "line 2", "expected username:hexkey");
        assertRejected(":" + KEY + "\n", "line 1", "empty username");
        assertRejected("alice:\n", "line 1", "empty key");
        assertRejected("alice:" + KEY + "0\n", "line 1", "odd number");
        assertRejected("alice:" + KEY.replace('a', 'g') + "\n", "line 1", "not hexadecimal");
        assertRejected("alice:" + KEY + "\n\nalice:" + KEY + "\n", "line 3", "second time");
        assertRejected("alice:" + KEY + " \n", "line 1", "odd number");
        assertRejected("alice:" + "ab".repeat(PskFile.MAX_KEY_BYTES + 1) + "\n", "line 1", "longer than");
        assertRejected("\n\n", "PSK file", "no username:hexkey line");
    }

    @Test
    void missingOrBinaryFileIsNamed() throws Exception {
        Path missing = tmp.resolve("nope.psk");
        TlsConfigException e = assertThrows(TlsConfigException.class, () -> PskFile.read(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        Path binary = tmp.resolve("binary.psk");
        Files.write(binary, new byte[] {'a', ':', (byte) 0xff, (byte) 0xfe});
        TlsConfigException notText = assertThrows(TlsConfigException.class, () -> PskFile.read(binary));
        assertTrue(notText.getMessage().contains("not UTF-8"), notText.getMessage());
    }

    private void assertRejected(String content, String... expected) throws Exception {
        Path file = write(content);
        TlsConfigException e = assertThrows(TlsConfigException.class, () -> PskFile.read(file));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        for (String part : expected) {
            assertTrue(e.getMessage().contains(part), e.getMessage());
        }
        assertFalse(e.getMessage().contains(KEY.substring(0, 8)), e.getMessage());
        assertFalse(e.getMessage().contains(KEY.toUpperCase().substring(0, 8)), e.getMessage());
    }

    private Path write(String content) throws Exception {
        Path file = Files.createTempFile(tmp, "keys", ".psk");
        Files.writeString(file, content, StandardCharsets.UTF_8);
        return file;
    }
}
