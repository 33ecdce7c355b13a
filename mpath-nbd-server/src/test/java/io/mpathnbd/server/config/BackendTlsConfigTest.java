package io.mpathnbd.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpathnbd.core.backend.TransportOptions;
import io.mpathnbd.nbd.backend.NbdTlsOptions;
import io.mpathnbd.server.Gateway;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code backend-tls:} sections: top level, export and path overriding key by key, and the CLI's directory. */
class BackendTlsConfigTest {
    @TempDir
    Path dir;

    private static TransportOptions transport(GatewayConfig c, int export, int path) {
        ExportDefinition e = c.exports().get(export);
        return e.paths().get(path).driverOptions(e.driverOptions(c.limits().maxPayload())).transport();
    }

    @Test
    void exportAndPathOverrideTheTopLevelKeyByKey() {
        GatewayConfig c = GatewayConfig.parse("""
                backend-tls:
                  certificates: /etc/pki/gw
                exports:
                  - name: a
                    paths: [nbds://10.0.0.1/a]
                  - name: b
                    backend-tls:
                      ca-file: /etc/pki/b/ca.pem
                    paths:
                      - nbds://10.0.0.1/b
                      - uri: nbds://10.0.0.2/b
                        backend-tls:
                          hostname: b2.example
                          cert-file: /etc/pki/b/c.pem
                          key-file: /etc/pki/b/k.pem
                """);
        TransportOptions a = transport(c, 0, 0);
        assertEquals("/etc/pki/gw", a.get(NbdTlsOptions.CERTIFICATES));
        assertNull(a.get(NbdTlsOptions.CA_FILE));
        TransportOptions b0 = transport(c, 1, 0);
        assertEquals("/etc/pki/gw", b0.get(NbdTlsOptions.CERTIFICATES));
        assertEquals("/etc/pki/b/ca.pem", b0.get(NbdTlsOptions.CA_FILE));
        assertNull(b0.get(NbdTlsOptions.HOSTNAME), "a path's settings stay on that path");
        TransportOptions b1 = transport(c, 1, 1);
        assertEquals("/etc/pki/b/ca.pem", b1.get(NbdTlsOptions.CA_FILE));
        assertEquals("b2.example", b1.get(NbdTlsOptions.HOSTNAME));
        assertEquals("/etc/pki/b/c.pem", b1.get(NbdTlsOptions.CERT_FILE));
        assertEquals("/etc/pki/b/k.pem", b1.get(NbdTlsOptions.KEY_FILE));
    }

    @Test
    void wrongKeysAndEmptyValuesNameTheKey() {
        ConfigException unknown = assertThrows(ConfigException.class, () -> GatewayConfig.parse("""
                exports:
                  - name: a
                    paths:
                      - uri: nbds://10.0.0.1/a
                        backend-tls: {ca: /x}
                """));
        assertTrue(unknown.getMessage().startsWith("unknown key 'ca' at exports[0].paths[0].backend-tls"),
                unknown.getMessage());
        ConfigException empty = assertThrows(ConfigException.class, () -> GatewayConfig.parse("""
                backend-tls: {hostname: " "}
                exports: [{name: a, paths: [nbds://10.0.0.1/a]}]
                """));
        assertEquals("backend-tls.hostname: empty", empty.getMessage());
    }

    @Test
    void commandLineDirectoryReplacesTheTopLevelOneOnly() {
        GatewayConfig c = GatewayConfig.parse("""
                backend-tls: {certificates: /file/top}
                exports:
                  - {name: a, paths: [nbds://10.0.0.1/a]}
                  - {name: b, backend-tls: {certificates: /file/b}, paths: [nbds://10.0.0.1/b]}
                """).withInline(null, null, List.of("c=nbds://10.0.0.3/c"), null).withBackendTlsCertificates("/cli");
        assertEquals("/cli", transport(c, 0, 0).get(NbdTlsOptions.CERTIFICATES));
        assertEquals("/file/b", transport(c, 1, 0).get(NbdTlsOptions.CERTIFICATES));
        assertEquals("/cli", transport(c, 2, 0).get(NbdTlsOptions.CERTIFICATES));
        GatewayConfig inline = GatewayConfig.inline(null, null, List.of("d=nbds://10.0.0.1/d"), null)
                .withBackendTlsCertificates("/cli");
        assertEquals("/cli", transport(inline, 0, 0).get(NbdTlsOptions.CERTIFICATES));
    }

    @Test
    void missingCertificateFilesStopTheStartNamingPathAndFile() {
        Path missing = dir.resolve("no-such-ca.pem");
        ConfigException e = assertThrows(ConfigException.class, () -> Gateway.start(GatewayConfig.parse("""
                listen: 127.0.0.1:0
                admin: 127.0.0.1:0
                exports:
                  - name: a
                    paths:
                      - file:%s
                      - uri: nbds://127.0.0.1:1/a
                        backend-tls: {ca-file: %s}
                """.formatted(dir.resolve("a.img"), missing))));
        assertTrue(e.getMessage().startsWith("exports[0].paths[1].uri: nbds://127.0.0.1:1/a: "), e.getMessage());
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        ConfigException none = assertThrows(ConfigException.class, () -> Gateway.start(
                GatewayConfig.inline("127.0.0.1:0", "127.0.0.1:0", List.of("d=nbds://127.0.0.1:1/d"), null)));
        assertTrue(none.getMessage().contains("no CA certificate"), none.getMessage());
    }
}
