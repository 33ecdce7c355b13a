package io.mpathnbd.server.frontend;

import static io.mpathnbd.nbd.protocol.NbdConstants.CLIENT_FLAG_FIXED_NEWSTYLE;
import static io.mpathnbd.nbd.protocol.NbdConstants.CLIENT_FLAG_NO_ZEROES;
import static io.mpathnbd.nbd.protocol.NbdConstants.CMD_READ;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mpathnbd.nbd.protocol.NbdConstants;
import io.mpathnbd.server.LogCapture;
import io.mpathnbd.server.access.AccessRule;
import io.mpathnbd.server.access.ExportAccess;
import io.mpathnbd.server.access.Network;
import io.mpathnbd.testing.peers.Images;
import io.mpathnbd.testing.peers.Tools;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Allow lists at the front end, with clients on 127.0.0.1 (the real tools), 127.0.0.2 and 127.0.0.3 (the raw
 * client, which binds its source address): who sees which export, and that a refused client cannot tell a refusal
 * from a missing export.
 */
class AccessControlTest {
    static final int BOTH_FLAGS = CLIENT_FLAG_FIXED_NEWSTYLE | CLIENT_FLAG_NO_ZEROES;
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @BeforeAll
    static void tools() {
        Tools.require("nbdinfo", "qemu-io");
    }

    static InetAddress ip(String literal) throws IOException {
        return InetAddress.getByName(literal);
    }

    static ExportAccess allow(String... networks) {
        List<AccessRule> rules = new ArrayList<>();
        for (String n : networks) {
            rules.add(new AccessRule(Optional.of(Network.parse(n)), Optional.empty(), false));
        }
        return new ExportAccess(false, rules);
    }

    /** public (open), secret (127.0.0.2 only), local (127.0.0.1 only). */
    private FrontendFixture threeExports() throws Exception {
        FrontendFixture fx = new FrontendFixture();
        fx.fileExport("public", Images.sparse(dir, "public.img", 1 << 20));
        fx.fileExport("secret", Images.sparse(dir, "secret.img", 1 << 20));
        fx.fileExport("local", Images.sparse(dir, "local.img", 1 << 20));
        fx.access("secret", allow("127.0.0.2")).access("local", allow("127.0.0.1/32"));
        return fx.start();
    }

    static List<String> listFrom(InetSocketAddress server, String source) throws IOException {
        try (RawNbdClient c = RawNbdClient.handshakeFrom(server, ip(source), BOTH_FLAGS)) {
            c.sendOption(NbdConstants.OPT_LIST, new byte[0]);
            List<String> names = new ArrayList<>();
            for (RawNbdClient.OptionReply r : c.readFinalReplies()) {
                if (r.type() == NbdConstants.REP_SERVER) {
                    int len = ByteBuffer.wrap(r.data()).getInt();
                    names.add(new String(r.data(), 4, len, StandardCharsets.UTF_8));
                } else {
                    assertEquals(NbdConstants.REP_ACK, r.type(), r.text());
                }
            }
            return names;
        }
    }

    @Test
    void eachClientListsOnlyWhatItMayAttach() throws Exception {
        try (FrontendFixture fx = threeExports()) {
            JsonNode list = JSON.readTree(Tools.run(TIMEOUT, "nbdinfo", "--list", "--json",
                    "nbd://127.0.0.1:" + fx.port()).assertOk().stdout());
            List<String> seen = new ArrayList<>();
            list.get("exports").forEach(e -> seen.add(e.get("export-name").asText()));
            assertEquals(List.of("public", "local"), seen, "nbdinfo on 127.0.0.1");
            assertEquals(List.of("public", "secret"), listFrom(fx.address(), "127.0.0.2"));
            assertEquals(List.of("public"), listFrom(fx.address(), "127.0.0.3"));
            assertTrue(fx.observer.accessRefused.isEmpty(), "leaving an export out of a list is no refusal");
        }
    }

    /** The bytes every option of a refused client's session gets, as hex, one line per reply; then EXPORT_NAME. */
    private static List<String> probe(InetSocketAddress server, String name) throws IOException {
        List<String> out = new ArrayList<>();
        try (RawNbdClient c = RawNbdClient.handshakeFrom(server, ip("127.0.0.3"), BOTH_FLAGS)) {
            byte[][] options = {
                RawNbdClient.optionBytes(NbdConstants.OPT_LIST, new byte[0]),
                RawNbdClient.optionBytes(NbdConstants.OPT_INFO, RawNbdClient.infoData(name,
                        NbdConstants.INFO_NAME, NbdConstants.INFO_DESCRIPTION, NbdConstants.INFO_BLOCK_SIZE)),
                RawNbdClient.optionBytes(NbdConstants.OPT_GO, RawNbdClient.infoData(name)),
                RawNbdClient.optionBytes(NbdConstants.OPT_LIST_META_CONTEXT,
                        RawNbdClient.metaContextData(name, "base:allocation")),
                RawNbdClient.optionBytes(NbdConstants.OPT_STRUCTURED_REPLY, new byte[0]),
                RawNbdClient.optionBytes(NbdConstants.OPT_SET_META_CONTEXT,
                        RawNbdClient.metaContextData(name, "base:allocation")),
            };
            for (byte[] o : options) {
                c.write(o);
                for (RawNbdClient.OptionReply r : c.readFinalReplies()) {
                    out.add(Integer.toHexString(r.option()) + " " + Integer.toHexString(r.type()) + " "
                            + HexFormat.of().formatHex(r.data()));
                }
            }
            c.write(RawNbdClient.optionBytes(NbdConstants.OPT_EXPORT_NAME, name.getBytes(StandardCharsets.UTF_8)));
            int next = c.in().read();
            out.add("EXPORT_NAME -> " + (next < 0 ? "closed" : "byte " + next));
        }
        return out;
    }

    @Test
    void aRefusedClientGetsTheSameBytesAsForAMissingExport() throws Exception {
        try (FrontendFixture withSecret = threeExports(); FrontendFixture without = new FrontendFixture()) {
            without.fileExport("public", Images.sparse(dir, "other-public.img", 1 << 20));
            without.fileExport("local", Images.sparse(dir, "other-local.img", 1 << 20));
            without.access("local", allow("127.0.0.1/32")).start();

            List<String> refused = probe(withSecret.address(), "secret");
            List<String> missing = probe(without.address(), "secret");
            assertEquals(missing, refused);
            String unknown = Integer.toHexString(NbdConstants.REP_ERR_UNKNOWN);
            assertEquals(4, refused.stream().filter(l -> l.split(" ")[1].equals(unknown)).count(), refused::toString);
            assertEquals("EXPORT_NAME -> closed", refused.get(refused.size() - 1));
            // counted only where the export exists: a made-up name is no export's refusal
            assertEquals(List.of("secret", "secret", "secret", "secret", "secret"), withSecret.observer.accessRefused);
            assertTrue(without.observer.accessRefused.isEmpty());
            assertEquals(List.of("unknown-export"), withSecret.observer.protocolErrors);

            // the allowed address attaches and reads
            try (RawNbdClient ok = RawNbdClient.attachFrom(withSecret.address(), ip("127.0.0.2"), "secret")) {
                ok.sendRequest(0, CMD_READ, 7, 0, 4096, null);
                RawNbdClient.Reply r = ok.readReply(4096);
                assertEquals(0, r.error());
                assertEquals(7, r.cookie());
            }
        }
    }

    @Test
    void realClientsSeeARefusalAsAMissingExportAndAllowedOnesDoIo() throws Exception {
        try (FrontendFixture fx = threeExports()) {
            Tools.Result refused = Tools.run(TIMEOUT, "nbdinfo", fx.uri("secret"));
            Tools.Result missing = Tools.run(TIMEOUT, "nbdinfo", fx.uri("nosuch"));
            assertFalse(refused.ok());
            assertEquals(missing.stderr().replace("nosuch", "NAME"), refused.stderr().replace("secret", "NAME"));
            assertTrue(refused.stderr().contains("No such file or directory for export: secret"), refused.describe());
            Tools.Result qemu = Tools.run(TIMEOUT, "qemu-io", "-f", "raw", "-r", "-c", "read 0 4096",
                    fx.uri("secret"));
            assertFalse(qemu.ok(), qemu.describe());

            Tools.run(TIMEOUT, "qemu-io", "-f", "raw", "-c", "write -P 0x5a 0 64k", "-c", "read -P 0x5a 0 64k",
                    fx.uri("local")).assertOk();
            byte[] back = Images.read(dir.resolve("local.img"), 0, 65536);
            for (byte b : back) {
                assertEquals(0x5a, b & 0xff);
            }
        }
    }

    @Test
    void refusalsAreLoggedRateLimitedAndAllCounted() throws Exception {
        LogCapture log = new LogCapture();
        log.attach();
        try (FrontendFixture fx = threeExports()) {
            for (int i = 0; i < 20; i++) {
                try (RawNbdClient c = RawNbdClient.handshakeFrom(fx.address(), ip("127.0.0.3"), BOTH_FLAGS)) {
                    c.sendOption(NbdConstants.OPT_GO, RawNbdClient.infoData("secret"));
                    assertEquals(NbdConstants.REP_ERR_UNKNOWN, c.readOptionReply().type());
                }
            }
            assertEquals(20, fx.observer.accessRefused.size());
            List<String> warnings = log.lines().stream()
                    .filter(l -> l.startsWith("WARN") && l.contains("AccessGate")).toList();
            assertEquals(1, warnings.size(), warnings::toString);
            assertTrue(warnings.get(0).matches("WARN .*AccessGate - refused connection from /127\\.0\\.0\\.3:\\d+:"
                    + " GO for export 'secret': no allow entry matches 127\\.0\\.0\\.3, no client"
                    + " certificate \\(answered as for an unknown export\\)"), warnings.get(0));
        } finally {
            log.detach();
        }
    }
}
