package io.mpathnbd.server.metrics;

import static io.mpathnbd.server.GatewayTestSupport.fileUri;
import static io.mpathnbd.server.GatewayTestSupport.http;
import static io.mpathnbd.server.GatewayTestSupport.image;
import static io.mpathnbd.server.GatewayTestSupport.nbdUri;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mpathnbd.server.Gateway;
import io.mpathnbd.server.GatewayTestSupport;
import io.mpathnbd.server.config.GatewayConfig;
import io.mpathnbd.testing.peers.Tools;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gateway started from YAML with access settings: refusals counted per configured export only, and the admin API
 * showing who may attach and who may write.
 */
class AccessMetricsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @BeforeAll
    static void tools() {
        Tools.require("nbdinfo");
    }

    @Test
    void refusalsAreCountedPerExportAndTheAdminApiShowsTheAccessSettings() throws Exception {
        String yaml = "listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\n"
                + "exports:\n"
                + "  - name: open\n    read-only: true\n    paths: [" + fileUri(image(dir, "open.img")) + "]\n"
                + "  - name: secret\n    allow: [127.0.0.2, {network: 10.0.0.0/8, read-only: true}]\n"
                + "    paths: [" + fileUri(image(dir, "secret.img")) + "]\n";
        try (Gateway g = Gateway.start(GatewayConfig.parse(yaml))) {
            GatewayTestSupport.awaitReady(g.export("open"));
            GatewayTestSupport.awaitReady(g.export("secret"));
            assertEquals(0.0, scrape(g).sum("mpath_export_access_refused_total", "export", "secret"),
                    "the counter exists from the start");
            // each refused option counts; nbdinfo sends more than one for the export it asks for
            assertFalse(Tools.run(GatewayTestSupport.TOOL_TIMEOUT, "nbdinfo", nbdUri(g, "secret")).ok());
            double once = scrape(g).sum("mpath_export_access_refused_total", "export", "secret");
            assertTrue(once >= 1, "refused options of one nbdinfo: " + once);
            for (int i = 0; i < 2; i++) {
                assertFalse(Tools.run(GatewayTestSupport.TOOL_TIMEOUT, "nbdinfo", nbdUri(g, "secret")).ok());
            }
            assertFalse(Tools.run(GatewayTestSupport.TOOL_TIMEOUT, "nbdinfo", nbdUri(g, "made-up")).ok());
            Scrape s = scrape(g);
            assertEquals(3 * once, s.sum("mpath_export_access_refused_total", "export", "secret"), s.text);
            assertEquals(0.0, s.sum("mpath_export_access_refused_total", "export", "open"));
            assertEquals(2, s.find("mpath_export_access_refused_total").size(), "one series per configured export");
            assertFalse(s.text.contains("made-up"), "a name a client sent never becomes a tag");

            HttpResponse<String> r = http(g, "GET", "/api/exports", null);
            assertEquals(200, r.statusCode());
            JsonNode all = JSON.readTree(r.body());
            assertTrue(all.get(0).get("read-only").asBoolean());
            assertEquals(0, all.get(0).get("allow").size());
            assertFalse(all.get(1).get("read-only").asBoolean());
            assertEquals("[\"127.0.0.2/32\",\"10.0.0.0/8 read-only\"]", all.get(1).get("allow").toString());
        }
    }

    private static Scrape scrape(Gateway g) throws Exception {
        HttpResponse<String> r = http(g, "GET", "/metrics", null);
        assertEquals(200, r.statusCode());
        return new Scrape(r.body());
    }
}
