package io.mpathnbd.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/**
 * The text {@code persist} prints is what fence_mpath parses: mpathpersist's lines, keys lower case without leading
 * zeros (the agent compares them as text), 64-bit keys unsigned. The agent's own runs are in FenceMpathTest.
 */
class PersistFormatTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void readKeysAsMpathpersistPrintsThem() throws Exception {
        assertEquals("  PR generation=0x1f, \t2 registered reservation keys follow:\n    0xa1\n"
                + "    0xf1a2a3a4a5a6a7a8\n", PersistCommand.formatKeys(JSON.readTree(
                        "{\"generation\": 31, \"keys\": [\"0x00000000000000a1\", \"0xf1a2a3a4a5a6a7a8\"]}")));
        assertEquals("  PR generation=0x0, \t1 registered reservation key follows:\n    0x1\n",
                PersistCommand.formatKeys(JSON.readTree("{\"generation\": 0, \"keys\": [\"0x0000000000000001\"]}")));
        assertEquals("  PR generation=0x2, \t0 registered reservation key.\n",
                PersistCommand.formatKeys(JSON.readTree("{\"generation\": 2, \"keys\": []}")));
    }

    @Test
    void readReservationAsMpathpersistPrintsIt() throws Exception {
        assertEquals("  PR generation=0xa, Reservation follows:\n   Key = 0xb2c3d4e5f6\n"
                + "  scope = LU_SCOPE, type = Exclusive Access, all registrants\n",
                PersistCommand.formatReservation(JSON.readTree("{\"generation\": 10, \"reserved\": true,"
                        + " \"key\": \"0x000000b2c3d4e5f6\", \"type\": \"exclusive-access-all-registrants\"}")));
        assertEquals("  PR generation=0xa, there is NO reservation held \n",
                PersistCommand.formatReservation(JSON.readTree("{\"generation\": 10, \"reserved\": false}")));
    }

    @Test
    void keysAreReadAsMpathpersistReadsThem() {
        assertEquals(0xa1L, PersistCommand.key("--param-sark", "a1"));
        assertEquals(0xa1L, PersistCommand.key("--param-sark", "0XA1"));
        assertEquals(0, PersistCommand.key("--param-sark", "0"));
        assertEquals(0xffffffffffffffffL, PersistCommand.key("--param-rk", "ffffffffffffffff"));
        for (String bad : new String[] {"", "0x", "g1", "1ffffffffffffffff", "-1", "0x 1"}) {
            CliException e = assertThrows(CliException.class, () -> PersistCommand.key("--param-rk", bad), bad);
            assertEquals(Main.EXIT_USAGE, e.exitCode());
        }
    }
}
