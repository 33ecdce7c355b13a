package io.mpathnbd.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code status} marks an export no client may write on its first line. */
class StatusReadOnlyTest {

    @Test
    void readOnlyExportsAreMarked() throws Exception {
        String json = "[{\"name\":\"ro\",\"ready\":true,\"size\":1048576,\"iopolicy\":\"numa\",\"health\":\"serving\","
                + "\"read-only\":true,\"paths\":[]},"
                + "{\"name\":\"rw\",\"ready\":true,\"size\":1048576,\"iopolicy\":\"numa\",\"health\":\"serving\","
                + "\"read-only\":false,\"paths\":[]}]";
        List<String> firstLines = StatusFormatter.format(new ObjectMapper().readTree(json)).lines()
                .filter(l -> !l.startsWith(" ")).toList();
        assertEquals(List.of("ro size=1MiB (1048576 bytes) iopolicy=numa ready read-only",
                "rw size=1MiB (1048576 bytes) iopolicy=numa ready"), firstLines);
    }
}
