package io.mpathnbd.server.it;

import static io.mpathnbd.server.GatewayTestSupport.alias;
import static io.mpathnbd.server.GatewayTestSupport.await;
import static io.mpathnbd.server.GatewayTestSupport.awaitReady;
import static io.mpathnbd.server.GatewayTestSupport.awaitState;
import static io.mpathnbd.server.GatewayTestSupport.fileUri;
import static io.mpathnbd.server.GatewayTestSupport.http;
import static io.mpathnbd.server.GatewayTestSupport.nbdUri;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mpathnbd.core.export.Export;
import io.mpathnbd.core.path.Path;
import io.mpathnbd.core.path.PathState;
import io.mpathnbd.server.Gateway;
import io.mpathnbd.server.config.GatewayConfig;
import io.mpathnbd.testing.peers.Images;
import io.mpathnbd.testing.peers.Tools;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real clients, real failover: three nbdsh processes, each writing sequential streams into two zones of a zoned
 * export (two file paths to one emulated zoned disk) with up to 16 writes in flight, while the operator fails and
 * reinstates each path in turn through the admin API. The writers run until the failovers are done (a stop file),
 * then print how many 512-byte chunks each zone was told succeeded: every zone's write pointer and content must be
 * exactly those chunks, and no write may fail.
 */
class ZonedFailoverTest {
    private static final int MIB = 1 << 20;
    private static final int ZONE = 16 * MIB;
    private static final int CHUNK = 512;
    private static final Duration EVENT = Duration.ofSeconds(60);

    /** The writer: zones from argv-like globals, a pattern byte per chunk ((zone * 7 + i) % 251 + 1). */
    private static String script(int[] zones, java.nio.file.Path stop) {
        StringBuilder z = new StringBuilder();
        for (int x : zones) {
            z.append(x).append(',');
        }
        return String.join("\n",
                "import os",
                "zones = [" + z + "]",
                "done = {zz: 0 for zz in zones}",
                "sent = {zz: 0 for zz in zones}",
                "cookies = []",
                "per_zone = " + ZONE / CHUNK,
                "def retire():",
                "    global cookies",
                "    keep = []",
                "    for (c, zz) in cookies:",
                "        if h.aio_command_completed(c):",
                "            done[zz] += 1",
                "        else:",
                "            keep.append((c, zz))",
                "    cookies = keep",
                "while not os.path.exists('" + stop + "') and any(sent[zz] < per_zone for zz in zones):",
                "    for zz in zones:",
                "        if sent[zz] >= per_zone:",
                "            continue",
                "        while h.aio_in_flight() >= 16:",
                "            h.poll(-1)",
                "            retire()",
                "        i = sent[zz]",
                "        b = nbd.Buffer.from_bytearray(bytearray([(zz * 7 + i) % 251 + 1]) * " + CHUNK + ")",
                "        cookies.append((h.aio_pwrite(b, zz * " + ZONE + " + i * " + CHUNK + "), zz))",
                "        sent[zz] += 1",
                "    retire()",
                "while h.aio_in_flight() > 0:",
                "    h.poll(-1)",
                "retire()",
                "assert not cookies, cookies",
                "print('WROTE ' + ' '.join('%d:%d' % (zz, done[zz]) for zz in zones))",
                "h.shutdown()");
    }

    @Test
    void zonesHoldExactlyWhatSucceededAcrossOperatorFailovers(@TempDir java.nio.file.Path dir) throws Exception {
        Tools.require("nbdsh");
        java.nio.file.Path img = Images.sparse(dir, "z.img", 8L * ZONE);
        java.nio.file.Path stop = dir.resolve("stop");
        String q = "?zone-size=16MiB&conventional=1";
        String spec = "z0=" + fileUri(img) + q + "," + fileUri(alias(img, "z.img-b")) + q;
        try (Gateway g = Gateway.start(GatewayConfig.inline("127.0.0.1:0", "127.0.0.1:0", List.of(spec),
                "round-robin"))) {
            Export e = g.export("z0");
            awaitReady(e);
            awaitState(e, "p0", PathState.LIVE);
            awaitState(e, "p1", PathState.LIVE);
            int[][] groups = {{1, 2}, {3, 4}, {5, 6}};
            List<CompletableFuture<Tools.Result>> writers = new ArrayList<>();
            for (int[] zones : groups) {
                String s = script(zones, stop);
                writers.add(CompletableFuture.supplyAsync(() -> Tools.run(Duration.ofSeconds(300), "nbdsh", "-u",
                        nbdUri(g, "z0"), "-c", s)));
            }
            for (String id : new String[] {"p0", "p1", "p0", "p1"}) {
                Path other = e.path(id.equals("p0") ? "p1" : "p0");
                long before = other.requests();
                assertEquals(200, http(g, "POST", "/api/exports/z0/paths/" + id + "/fail", null).statusCode());
                awaitState(e, id, PathState.DISABLED);
                await("writes on " + other.id() + " while " + id + " is failed", EVENT,
                        () -> other.requests() > before + 200 || writers.stream().allMatch(CompletableFuture::isDone));
                assertTrue(writers.stream().noneMatch(CompletableFuture::isDone), "the load ended before the "
                        + "failovers: " + writers.get(0).getNow(null));
                assertEquals(200, http(g, "POST", "/api/exports/z0/paths/" + id + "/reinstate", null).statusCode());
                awaitState(e, id, PathState.LIVE);
            }
            Files.createFile(stop);
            ObjectMapper json = new ObjectMapper();
            JsonNode report = json.readTree(http(g, "GET", "/api/exports/z0/zones", null).body());
            for (CompletableFuture<Tools.Result> w : writers) {
                Tools.Result r = w.get(300, TimeUnit.SECONDS);
                assertTrue(r.ok() && r.stdout().contains("WROTE "), r.describe());
                report = json.readTree(http(g, "GET", "/api/exports/z0/zones", null).body());
                String line = r.stdout().substring(r.stdout().indexOf("WROTE ") + 6).trim();
                for (String part : line.split(" ")) {
                    int zone = Integer.parseInt(part.split(":")[0]);
                    int chunks = Integer.parseInt(part.split(":")[1]);
                    assertTrue(chunks > 0, line);
                    JsonNode z = report.path("zones").get(zone);
                    assertEquals((long) zone * ZONE + (long) chunks * CHUNK, z.path("write-pointer").asLong(),
                            "zone " + zone + ": the pointer must be exactly after the " + chunks + " successes");
                    byte[] got = Images.read(img, (long) zone * ZONE, chunks * CHUNK + CHUNK);
                    for (int i = 0; i < chunks; i++) {
                        byte want = (byte) ((zone * 7 + i) % 251 + 1);
                        byte[] expect = new byte[CHUNK];
                        java.util.Arrays.fill(expect, want);
                        assertArrayEquals(expect, java.util.Arrays.copyOfRange(got, i * CHUNK, (i + 1) * CHUNK),
                                "zone " + zone + " chunk " + i);
                    }
                    assertArrayEquals(new byte[CHUNK], java.util.Arrays.copyOfRange(got, chunks * CHUNK,
                            chunks * CHUNK + CHUNK), "zone " + zone + ": nothing past the pointer");
                }
            }
            assertEquals(0, report.path("unaligned-write-refusals").asLong(), report.toString());
        }
    }
}
