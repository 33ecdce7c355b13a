package io.mpathnbd.iscsi.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.mpathnbd.core.backend.Drivers;
import org.junit.jupiter.api.Test;

class IscsiUriTest {
    private static final String IQN = "iqn.2026-11.io.mpathnbd:test";

    private static IscsiUri parse(String uri) {
        return IscsiUri.parse(Drivers.parse(uri));
    }

    private static void error(String uri, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse(uri));
        assertEquals(message, e.getMessage());
        assertFalse(e.getMessage().contains("topsecret"), "the secret appears in: " + e.getMessage());
    }

    @Test
    void hostPortTargetAndLun() {
        IscsiUri u = parse("iscsi://127.0.0.2:3261/" + IQN + "/1");
        assertEquals("127.0.0.2", u.host());
        assertEquals(3261, u.port());
        assertEquals(IQN, u.targetName());
        assertEquals(1, u.lun());
        assertNull(u.chap());
        assertEquals("iscsi://127.0.0.2:3261/" + IQN + "/1", u.display());
    }

    @Test
    void defaultPortAndIpv6() {
        IscsiUri u = parse("iscsi://[::1]/" + IQN + "/0");
        assertEquals("::1", u.host());
        assertEquals(3260, u.port());
        assertEquals("iscsi://[::1]:3260/" + IQN + "/0", u.display());
    }

    @Test
    void chapCredentialsArePercentDecodedAndNeverDisplayed() {
        IscsiUri u = parse("iscsi://gw%40site:top%3Asecret%2F1@host/" + IQN + "/3");
        assertEquals("gw@site", u.chap().user());
        assertEquals("top:secret/1", u.chap().secret());
        assertFalse(u.toString().contains("secret/1"), u.toString());
        assertFalse(u.display().contains("gw"), u.display());
    }

    @Test
    void errorsNameWhatIsWrong() {
        error("iscsi:///" + IQN + "/1", "malformed iscsi URI 'iscsi:///" + IQN
                + "/1' (expected iscsi://[user[:secret]@]host[:port]/TARGET-IQN/LUN)");
        error("iscsi://h/" + IQN, "iscsi URI 'iscsi://h/" + IQN + "': the path must be /TARGET-IQN/LUN, got '/" + IQN
                + "' (expected iscsi://[user[:secret]@]host[:port]/TARGET-IQN/LUN)");
        error("iscsi://h/" + IQN + "/1/2", "iscsi URI 'iscsi://h/" + IQN + "/1/2': the path must be /TARGET-IQN/LUN,"
                + " got '/" + IQN + "/1/2' (expected iscsi://[user[:secret]@]host[:port]/TARGET-IQN/LUN)");
        error("iscsi://h/" + IQN + "/x", "iscsi URI 'iscsi://h/" + IQN + "/x': LUN 'x' is not a number (0 to 16383)");
        error("iscsi://h/" + IQN + "/16384", "iscsi URI 'iscsi://h/" + IQN + "/16384': LUN 16384 out of range"
                + " (0 to 16383)");
        error("iscsi://h/disk/1", "iscsi URI 'iscsi://h/disk/1': target name: 'disk' is not an iSCSI name (it must"
                + " start with iqn., eui. or naa.)");
        error("iscsi://h:0/" + IQN + "/1", "iscsi URI 'iscsi://h:0/" + IQN + "/1': port 0 out of range");
        error("iscsi://h/" + IQN + "/1?x=1", "iscsi URI 'iscsi://h/" + IQN + "/1?x=1': query parameters are not"
                + " supported");
        error("iscsi://gw@h/" + IQN + "/1", "iscsi URI 'iscsi://gw@h/" + IQN + "/1': user 'gw' without a CHAP secret"
                + " (use user:secret@, or configure chap-user/chap-secret instead)");
        error("iscsi://:topsecret@h/" + IQN + "/1", "iscsi URI 'iscsi://:***@h/" + IQN + "/1': empty CHAP user name");
        error("nbd://h/x", "not an iscsi:// URI: nbd://h/x");
    }

    @Test
    void iscsiNames() {
        assertNull(IscsiNames.problem("iqn.2026-11.io.mpathnbd:test"));
        assertNull(IscsiNames.problem("iqn.2001-04.com.example"));
        assertNull(IscsiNames.problem("eui.02004567A425678D"));
        assertNull(IscsiNames.problem("naa.52004567BA64678D"));
        assertEquals("'iqn.2026-13.x' is not a valid iqn name (expected iqn.YYYY-MM.reversed.domain[:identifier],"
                + " letters, digits, '.', '-', ':')", IscsiNames.problem("iqn.2026-13.x"));
        assertEquals("'eui.12' is not a valid eui name (eui. and 16 hex digits)", IscsiNames.problem("eui.12"));
        assertEquals("iSCSI name longer than 223 bytes", IscsiNames.problem("iqn.2026-11.x:" + "a".repeat(220)));
    }

    @Test
    void defaultInitiatorNameIsAValidStableIqn() {
        String n = IscsiOptions.defaultInitiatorName();
        assertNull(IscsiNames.problem(n), n);
        assertEquals(n, IscsiOptions.defaultInitiatorName());
        assertEquals("my-host-1.lan", IscsiOptions.sanitize("My-Host_1.lan"));
    }
}
