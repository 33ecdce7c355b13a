package io.mpathnbd.server.access;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.Test;

/** Networks, subjects and the first-match rule of allow lists. */
class AccessRulesTest {

    private static InetAddress ip(String literal) throws Exception {
        return InetAddress.getByName(literal); // literals only: no lookup
    }

    private static ClientIdentity from(String literal) throws Exception {
        return ClientIdentity.of(new InetSocketAddress(ip(literal), 4711));
    }

    private static AccessRule net(String cidr, boolean readOnly) {
        return new AccessRule(Optional.of(Network.parse(cidr)), Optional.empty(), readOnly);
    }

    @Test
    void ipv4AndIpv6NetworksContainTheirAddressesOnly() throws Exception {
        Network n = Network.parse("10.0.0.0/8");
        assertTrue(n.contains(ip("10.255.1.2")));
        assertFalse(n.contains(ip("11.0.0.1")));
        assertFalse(n.contains(ip("::a00:1")), "an IPv6 address is never in an IPv4 network");
        Network odd = Network.parse("192.168.4.0/22");
        assertTrue(odd.contains(ip("192.168.7.255")));
        assertFalse(odd.contains(ip("192.168.8.0")));
        assertTrue(Network.parse("0.0.0.0/0").contains(ip("203.0.113.9")));
        assertFalse(Network.parse("0.0.0.0/0").contains(ip("::1")));
        Network v6 = Network.parse("fd00:1234::/32");
        assertTrue(v6.contains(ip("fd00:1234:ffff::1")));
        assertFalse(v6.contains(ip("fd00:1235::1")));
        assertTrue(Network.parse("::/0").contains(ip("2001:db8::1")));
    }

    @Test
    void aBareAddressIsANetworkOfOne() throws Exception {
        assertEquals("127.0.0.3/32", Network.parse("127.0.0.3").toString());
        assertEquals("::1/128", Network.parse("::1").toString());
        assertTrue(Network.parse("127.0.0.3").contains(ip("127.0.0.3")));
        assertFalse(Network.parse("127.0.0.3").contains(ip("127.0.0.2")));
        assertEquals(Network.parse("127.0.0.3/32"), Network.parse(" 127.0.0.3 "));
    }

    @Test
    void ipv4MappedAddressesCountAsIpv4() throws Exception {
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        mapped[12] = 10;
        mapped[15] = 7;
        // Inet6Address keeps the mapped form (InetAddress.getByAddress would unmap it already)
        InetAddress v6 = java.net.Inet6Address.getByAddress(null, mapped, -1);
        assertTrue(Network.parse("10.0.0.0/8").contains(v6));
        assertEquals("10.0.0.7/32", Network.parse("::ffff:10.0.0.7").toString());
    }

    @Test
    void malformedNetworksSayWhatIsWrong() {
        assertEquals("'10.0.0.300/8' is not an IPv4 or IPv6 address or network (expected e.g. 10.0.0.0/8,"
                + " 192.168.1.7 or fd00::/8; host names are not accepted)", parseError("10.0.0.300/8"));
        assertTrue(parseError("gateway.example").startsWith("'gateway.example' is not an IPv4 or IPv6"));
        assertTrue(parseError("10.0.0").startsWith("'10.0.0' is not an IPv4 or IPv6"));
        assertTrue(parseError("fe80::1%eth0").startsWith("'fe80::1%eth0' is not an IPv4 or IPv6"));
        assertEquals("'10.0.0.0/33': prefix length 33 is too long for an IPv4 address (at most 32)",
                parseError("10.0.0.0/33"));
        assertEquals("'fd00::/129': prefix length 129 is too long for an IPv6 address (at most 128)",
                parseError("fd00::/129"));
        assertEquals("'10.0.0.0/': the prefix length '' is not a number from 0 to 32", parseError("10.0.0.0/"));
        assertEquals("'10.0.0.0/-1': the prefix length '-1' is not a number from 0 to 32", parseError("10.0.0.0/-1"));
        assertEquals("'10.0.0.1/8' has address bits set beyond the /8 prefix (the network is 10.0.0.0/8; for this"
                + " one address write 10.0.0.1)", parseError("10.0.0.1/8"));
    }

    private static String parseError(String text) {
        return assertThrows(IllegalArgumentException.class, () -> Network.parse(text)).getMessage();
    }

    @Test
    void subjectsMatchAsDistinguishedNamesNotAsText() throws Exception {
        AccessRule rule = new AccessRule(Optional.empty(), Optional.of(new X500Principal("CN=host1,O=Example")),
                false);
        ClientIdentity client = from("192.0.2.1");
        assertFalse(rule.matches(client), "no certificate: never matched by a subject entry");
        assertTrue(rule.matches(client.withSubject(new X500Principal("cn=HOST1, o=example"))),
                "case and blanks do not matter");
        assertTrue(rule.matches(client.withSubject(new X500Principal("2.5.4.3=host1,O=Example"))),
                "an OID for the keyword");
        assertFalse(rule.matches(client.withSubject(new X500Principal("O=Example,CN=host1"))), "RDN order matters");
        assertFalse(rule.matches(client.withSubject(new X500Principal("CN=host1,OU=ops,O=Example"))),
                "an extra RDN is another name");
        assertFalse(rule.matches(client.withSubject(new X500Principal("CN=host10,O=Example"))), "not a prefix");
    }

    @Test
    void anEntryWithNetworkAndSubjectNeedsBoth() throws Exception {
        AccessRule rule = new AccessRule(Optional.of(Network.parse("10.1.0.0/16")),
                Optional.of(new X500Principal("CN=backup")), true);
        X500Principal backup = new X500Principal("CN=backup");
        assertTrue(rule.matches(from("10.1.2.3").withSubject(backup)));
        assertFalse(rule.matches(from("10.2.2.3").withSubject(backup)));
        assertFalse(rule.matches(from("10.1.2.3")));
        assertEquals("10.1.0.0/16 subject 'CN=backup' read-only", rule.describe());
        assertThrows(IllegalArgumentException.class,
                () -> new AccessRule(Optional.empty(), Optional.empty(), false));
    }

    @Test
    void theFirstMatchingEntryDecidesReadOnly() throws Exception {
        ExportAccess access = new ExportAccess(false, List.of(net("127.0.0.3", true), net("127.0.0.0/8", false)));
        assertTrue(access.allows(from("127.0.0.3")));
        assertTrue(access.readOnlyFor(from("127.0.0.3")));
        assertTrue(access.allows(from("127.0.0.2")));
        assertFalse(access.readOnlyFor(from("127.0.0.2")));
        assertFalse(access.allows(from("10.0.0.1")));
        assertFalse(access.allows(new ClientIdentity(null, Optional.empty())), "no address: no network matches");
        ExportAccess reversed = new ExportAccess(false, List.of(net("127.0.0.0/8", false), net("127.0.0.3", true)));
        assertFalse(reversed.readOnlyFor(from("127.0.0.3")), "the broader entry comes first and wins");
    }

    @Test
    void aReadOnlyExportIsReadOnlyForEveryone() throws Exception {
        ExportAccess access = new ExportAccess(true, List.of(net("127.0.0.0/8", false)));
        assertTrue(access.readOnlyFor(from("127.0.0.2")));
        assertTrue(ExportAccess.OPEN.allows(from("198.51.100.1")));
        assertFalse(ExportAccess.OPEN.readOnlyFor(from("198.51.100.1")));
        assertTrue(new ExportAccess(true, List.of()).allows(from("198.51.100.1")));
    }
}
