package io.mpathnbd.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Locale;

/** Zone report lines as util-linux {@code blkzone report} prints them: sectors, hex, write pointer relative. */
final class ZoneFormatter {
    private ZoneFormatter() {
    }

    static String report(JsonNode answer) {
        StringBuilder sb = new StringBuilder();
        for (JsonNode z : answer.path("zones")) {
            long start = z.path("start").asLong() / ZoneCommand.SECTOR;
            long len = z.path("length").asLong() / ZoneCommand.SECTOR;
            long cap = z.path("capacity").asLong() / ZoneCommand.SECTOR;
            long wp = z.path("write-pointer").asLong() / ZoneCommand.SECTOR - start;
            sb.append(String.format(Locale.ROOT,
                    "  start: 0x%09x, len 0x%06x, cap 0x%06x, wptr 0x%06x reset:0 non-seq:0, zcond:%2d(%s) "
                            + "[type: %d(%s)]%n",
                    start, len, cap, wp, z.path("condition-code").asInt(), z.path("condition-short").asText(),
                    z.path("type-code").asInt(), typeName(z.path("type-code").asInt())));
        }
        return sb.toString();
    }

    /** blkzone's type names. */
    private static String typeName(int code) {
        switch (code) {
            case 1: return "CONVENTIONAL";
            case 2: return "SEQ_WRITE_REQUIRED";
            case 3: return "SEQ_WRITE_PREFERRED";
            default: return "UNKNOWN";
        }
    }
}
