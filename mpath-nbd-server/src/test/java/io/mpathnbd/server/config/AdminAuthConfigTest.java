package io.mpathnbd.server.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code admin-auth:} section and {@code --admin-token-file}: the token is read from its file at load time,
 * checked, compared exactly, and never shown; a wrong section names its key; an admin API without authentication
 * is refused off loopback unless {@code open: all} says so.
 */
class AdminAuthConfigTest {
    private static final String TOKEN = "Zq8r1Lx0-admin-token-Hk27dPwe";
    private static final String EXPORT = "exports:\n  - name: d\n    paths: [file:/a]\n";

    @TempDir
    Path dir;

    private Path tokenFile(String content) throws Exception {
        Path f = Files.createTempFile(dir, "token", "");
        Files.writeString(f, content);
        return f;
    }

    private static GatewayConfig parse(String section) {
        return GatewayConfig.parse(section + EXPORT);
    }

    private static String error(String section) {
        return assertThrows(ConfigException.class, () -> parse(section)).getMessage();
    }

    @Test
    void withoutTheSectionThereIsNoToken() {
        AdminAuth a = parse("").adminAuth();
        assertFalse(a.tokenRequired());
        assertEquals(AdminAuth.Open.ALL, a.open());
        assertFalse(a.matches(TOKEN.getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void theTokenComesFromItsFileWithoutTheLineBreak() throws Exception {
        Path f = tokenFile(TOKEN + "\n");
        AdminAuth a = parse("admin-auth:\n  token-file: " + f + "\n").adminAuth();
        assertTrue(a.tokenRequired());
        assertEquals(AdminAuth.Open.NONE, a.open());
        assertEquals(f.toString(), a.tokenFile());
        assertTrue(a.matches(TOKEN.getBytes(StandardCharsets.US_ASCII)));
        assertFalse(a.matches((TOKEN + "\n").getBytes(StandardCharsets.US_ASCII)));
        assertFalse(a.matches(TOKEN.substring(1).getBytes(StandardCharsets.US_ASCII)));
        assertFalse(a.matches(TOKEN.toLowerCase().getBytes(StandardCharsets.US_ASCII)));
        assertFalse(a.matches(new byte[0]));
        assertFalse(a.matches(null));
        assertFalse(a.toString().contains(TOKEN), a.toString());
        assertFalse(parse("admin-auth:\n  token-file: " + f + "\n").toString().contains(TOKEN));
    }

    @Test
    void openLevels() throws Exception {
        Path f = tokenFile(TOKEN);
        for (AdminAuth.Open level : new AdminAuth.Open[] {AdminAuth.Open.NONE, AdminAuth.Open.HEALTH,
                AdminAuth.Open.READS}) {
            AdminAuth a = parse("admin-auth:\n  token-file: " + f + "\n  open: " + level.label() + "\n").adminAuth();
            assertEquals(level, a.open());
            assertTrue(a.tokenRequired());
        }
        AdminAuth all = parse("admin-auth:\n  open: all\n").adminAuth();
        assertFalse(all.tokenRequired());
        assertEquals(AdminAuth.Open.ALL, all.open());
    }

    @Test
    void wrongSectionsNameTheKey() throws Exception {
        Path f = tokenFile(TOKEN);
        assertEquals("admin-auth.token-file: missing (with open: none requests need a token; make a file with"
                + " `head -c 32 /dev/urandom | base64 > FILE`, or say open: all to run without authentication)",
                error("admin-auth:\n  open: none\n"));
        assertEquals("admin-auth.token-file: missing (with open: reads requests need a token; make a file with"
                + " `head -c 32 /dev/urandom | base64 > FILE`, or say open: all to run without authentication)",
                error("admin-auth:\n  open: reads\n"));
        assertEquals("admin-auth.open: 'all' serves every request without a token, so the token file would guard"
                + " nothing: give either open: all or a token file",
                error("admin-auth:\n  token-file: " + f + "\n  open: all\n"));
        assertEquals("admin-auth.open: 'changes' is not one of none, health, reads, all",
                error("admin-auth:\n  token-file: " + f + "\n  open: changes\n"));
        assertEquals("unknown key 'secret' at admin-auth (known keys: token-file, open)",
                error("admin-auth:\n  secret: " + TOKEN + "\n"));
        assertEquals("unknown key 'tokenfile' at admin-auth (did you mean 'token-file'?)",
                error("admin-auth:\n  tokenfile: " + f + "\n"));
        assertEquals("admin-auth: expected a mapping of keys, got '" + f + "'", error("admin-auth: " + f + "\n"));
    }

    @Test
    void aBadTokenFileIsRefusedWithoutShowingItsContent() throws Exception {
        Path missing = dir.resolve("nope");
        assertEquals("admin-auth.token-file: cannot read " + missing + ": no such file",
                error("admin-auth:\n  token-file: " + missing + "\n"));
        Path empty = tokenFile("\n");
        assertEquals("admin-auth.token-file (" + empty + "): the token is empty (make one with"
                + " `head -c 32 /dev/urandom | base64 > FILE`)", error("admin-auth:\n  token-file: " + empty + "\n"));
        String shortToken = "s3cr3t-short";
        Path tooShort = tokenFile(shortToken);
        String m = error("admin-auth:\n  token-file: " + tooShort + "\n");
        assertEquals("admin-auth.token-file (" + tooShort + "): the token must be 16 to 4096 characters long, it has"
                + " 12 (make one with `head -c 32 /dev/urandom | base64 > FILE`)", m);
        String blank = "two words in the token file";
        Path withBlank = tokenFile(blank);
        m = error("admin-auth:\n  token-file: " + withBlank + "\n");
        assertTrue(m.startsWith("admin-auth.token-file (" + withBlank + "): the token holds a blank"), m);
        assertFalse(m.contains(blank) || m.contains("words"), m);
        Path twoLines = tokenFile(TOKEN + "\n" + TOKEN + "\n");
        m = error("admin-auth:\n  token-file: " + twoLines + "\n");
        assertTrue(m.contains("a line break"), m);
        assertFalse(m.contains(TOKEN), m);
    }

    @Test
    void theTokenFileFlagOverridesTheFileAndKeepsItsOpenLevel() throws Exception {
        Path inFile = tokenFile(TOKEN);
        String other = "another-token-for-the-flag-9f8e7d";
        Path flag = tokenFile(other);
        GatewayConfig c = parse("admin-auth:\n  token-file: " + inFile + "\n  open: reads\n")
                .withAdminTokenFile(flag.toString());
        assertTrue(c.adminAuth().matches(other.getBytes(StandardCharsets.US_ASCII)));
        assertFalse(c.adminAuth().matches(TOKEN.getBytes(StandardCharsets.US_ASCII)));
        assertEquals(AdminAuth.Open.READS, c.adminAuth().open());

        GatewayConfig inline = GatewayConfig.inline(null, null, java.util.List.of("d=file:/a"), null)
                .withAdminTokenFile(flag.toString());
        assertEquals(AdminAuth.Open.NONE, inline.adminAuth().open());
        assertTrue(inline.adminAuth().tokenRequired());
        assertEquals("--admin-token-file: cannot read " + dir.resolve("x") + ": no such file",
                assertThrows(ConfigException.class, () -> inline.withAdminTokenFile(dir.resolve("x").toString()))
                        .getMessage());
        assertEquals("admin-auth.open: 'all' serves every request without a token, so the token file would guard"
                + " nothing: give either open: all or a token file", assertThrows(ConfigException.class,
                        () -> parse("admin-auth:\n  open: all\n").withAdminTokenFile(flag.toString())).getMessage());
    }

    @Test
    void checkTokenTakesPrintableAsciiOnly() {
        assertArrayEquals(TOKEN.getBytes(StandardCharsets.US_ASCII), AdminAuth.checkToken("X", TOKEN));
        String umlaut = "token-with-\u00fcmlaut-1234567";
        String m = assertThrows(ConfigException.class, () -> AdminAuth.checkToken("MPATH_ADMIN_TOKEN", umlaut))
                .getMessage();
        assertTrue(m.startsWith("MPATH_ADMIN_TOKEN: the token holds a blank, a line break or a character outside"
                + " printable ASCII"), m);
        assertFalse(m.contains("mlaut"), m);
    }

    @Test
    void noAuthenticationIsRefusedOffLoopbackOnly() throws Exception {
        AdminAuth unset = AdminAuth.unset();
        unset.checkExposure(new HostPort("127.0.0.1", 9810));
        unset.checkExposure(new HostPort("::1", 9810));
        unset.checkExposure(new HostPort("localhost", 9810));
        for (String host : new String[] {"0.0.0.0", "::"}) {
            String m = assertThrows(ConfigException.class, () -> unset.checkExposure(new HostPort(host, 9810)))
                    .getMessage();
            assertTrue(m.startsWith("admin: " + new HostPort(host, 9810) + " can be reached from other machines, and"
                    + " the admin API has no authentication"), m);
            assertTrue(m.contains("admin-auth: {token-file: FILE}") && m.contains("serve --admin-token-file FILE")
                    && m.contains("listen on 127.0.0.1") && m.contains("admin-auth: {open: all}"), m);
        }
        parse("admin-auth:\n  open: all\n").adminAuth().checkExposure(new HostPort("0.0.0.0", 9810));
        parse("admin-auth:\n  token-file: " + tokenFile(TOKEN) + "\n").adminAuth()
                .checkExposure(new HostPort("0.0.0.0", 9810));
    }
}
