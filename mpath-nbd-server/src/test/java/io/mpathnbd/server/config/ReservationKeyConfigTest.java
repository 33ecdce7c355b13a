package io.mpathnbd.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code reservation-key} and {@code reservation-key-file}: defaults, per export, validation, a file's key unseen. */
class ReservationKeyConfigTest {
    private static final String FILE_KEY = "0x5eC2e7f11e0000aa";

    @TempDir
    Path dir;

    private static ConfigException error(String yaml) {
        return assertThrows(ConfigException.class, () -> GatewayConfig.parse(yaml));
    }

    @Test
    void defaultsReachEveryExportAndAnExportReplacesThem() throws Exception {
        Path file = Files.writeString(dir.resolve("key"), FILE_KEY + "\n");
        GatewayConfig c = GatewayConfig.parse("""
                defaults:
                  reservation-key: 0x0123456789abcdef
                exports:
                  - name: a
                    paths: [iscsi://127.0.0.1/iqn.2026-12.x:t/1]
                  - name: b
                    reservation-key: "0xB1"
                    paths: [iscsi://127.0.0.1/iqn.2026-12.x:t/1]
                  - name: c
                    reservation-key-file: %s
                    paths: [iscsi://127.0.0.1/iqn.2026-12.x:t/1]
                  - name: d
                    reservation-key: 0xA1A2A3A4A5A6A7A8
                    paths: [iscsi://127.0.0.1/iqn.2026-12.x:t/1]
                """.formatted(file));
        assertEquals(0x0123456789abcdefL, c.exports().get(0).reservationKey().key());
        assertFalse(c.exports().get(0).reservationKey().secret());
        assertEquals(0xB1L, c.exports().get(1).reservationKey().key());
        ReservationKeySetting fromFile = c.exports().get(2).reservationKey();
        assertEquals(0x5ec2e7f11e0000aaL, fromFile.key());
        assertTrue(fromFile.secret());
        assertFalse(fromFile.toString().toLowerCase().contains("5ec2e7f11e"), fromFile.toString());
        // above Long.MAX_VALUE: YAML reads it as a big hex integer, still the same 8 bytes
        assertEquals(0xA1A2A3A4A5A6A7A8L, c.exports().get(3).reservationKey().key());
    }

    @Test
    void noKeyUnlessConfigured() {
        GatewayConfig c = GatewayConfig.parse("exports:\n  - name: a\n    paths: [file:/a]\n");
        assertFalse(c.exports().get(0).reservationKey().present());
    }

    @Test
    void malformedKeysAreRefusedNamingTheKey() {
        assertEquals("exports[0].reservation-key: '0x12g4' is not a reservation key: after 0x come 1 to 16 hex"
                + " digits (8 bytes), e.g. 0x0123456789abcdef",
                error("exports:\n  - name: a\n    reservation-key: \"0x12g4\"\n    paths: [file:/a]\n").getMessage());
        assertEquals("defaults.reservation-key: 'abc' is not a reservation key: write it as 0x and 1 to 16 hex"
                + " digits, e.g. 0x0123456789abcdef",
                error("defaults:\n  reservation-key: abc\nexports:\n  - name: a\n    paths: [file:/a]\n")
                        .getMessage());
        assertTrue(error("defaults:\n  reservation-key: \"0x00000000000000001\"\nexports:\n  - name: a\n"
                + "    paths: [file:/a]\n").getMessage().contains("1 to 16 hex digits"));
        assertTrue(error("exports:\n  - name: a\n    reservation-key: 0x0\n    paths: [file:/a]\n").getMessage()
                .startsWith("exports[0].reservation-key: 0 is not a reservation key"));
        assertEquals("exports[0].reservation-key: give either reservation-key or reservation-key-file, not both",
                error("exports:\n  - name: a\n    reservation-key: 0x1\n    reservation-key-file: /k\n"
                        + "    paths: [file:/a]\n").getMessage());
        assertTrue(error("reservation-key: 0x1\nexports:\n  - name: a\n    paths: [file:/a]\n").getMessage()
                .startsWith("unknown key 'reservation-key' at the top level"));
    }

    @Test
    void aKeyFileThatHoldsNoKeyIsNamedButNotQuoted() throws Exception {
        Path file = Files.writeString(dir.resolve("bad"), "0xnot-a-key-secret\n");
        ConfigException e = error("exports:\n  - name: a\n    reservation-key-file: " + file
                + "\n    paths: [file:/a]\n");
        assertEquals("exports[0].reservation-key-file: " + file + " does not hold a reservation key (expected one"
                + " line: 0x and 1 to 16 hex digits, not 0)", e.getMessage());
        assertFalse(e.getMessage().contains("not-a-key-secret"));
        assertEquals("exports[0].reservation-key-file: cannot read " + dir.resolve("none") + ": no such file",
                error("exports:\n  - name: a\n    reservation-key-file: " + dir.resolve("none")
                        + "\n    paths: [file:/a]\n").getMessage());
    }

    @Test
    void fenceReservationNeedsAKey() {
        GatewayConfig c = GatewayConfig.parse("""
                defaults:
                  reservation-key: 0x1
                  fence: reservation
                exports:
                  - name: a
                    paths: [file:/a]
                  - name: b
                    fence: delay
                    paths: [file:/b]
                  - name: c
                    paths: [file:/c]
                """);
        assertTrue(c.exports().get(0).settings().fenceByReservation());
        assertFalse(c.exports().get(1).settings().fenceByReservation());
        assertFalse(GatewayConfig.parse("exports:\n  - name: a\n    paths: [file:/a]\n").exports().get(0)
                .settings().fenceByReservation(), "the default stays the reset and fence-delay");
        assertEquals("exports[0].fence: fence: reservation needs a reservation key (reservation-key or"
                + " reservation-key-file), to preempt a hung path's registration with",
                error("exports:\n  - name: a\n    fence: reservation\n    paths: [file:/a]\n").getMessage());
        assertEquals("export 'a': fence: reservation needs a reservation key (reservation-key or"
                + " reservation-key-file), to preempt a hung path's registration with",
                error("defaults:\n  fence: reservation\nexports:\n  - name: a\n    paths: [file:/a]\n")
                        .getMessage());
        assertEquals("exports[0].fence: 'tcp' is not one of delay, reservation",
                error("exports:\n  - name: a\n    fence: tcp\n    paths: [file:/a]\n").getMessage());
    }
}
