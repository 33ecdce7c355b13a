package io.mpathnbd.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import io.mpathnbd.server.access.AccessRule;
import io.mpathnbd.server.access.ExportAccess;
import io.mpathnbd.server.access.Network;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.security.auth.x500.X500Principal;

/**
 * The access keys of {@code defaults:} and of each export: {@code read-only}, the {@code allow} list, and what it
 * demands of TLS ({@code tls-only: true}, {@code client-certificate: required}). An export inherits them from the
 * defaults; its own {@code allow} replaces the defaults' list rather than adding to it.
 *
 * <p>An allow entry is either a network as a plain string ({@code 10.0.0.0/8}, {@code 192.168.1.7}, {@code fd00::/8})
 * or a mapping with {@code network}, {@code subject} (a TLS client certificate's subject in RFC 2253 form) and
 * {@code read-only}.
 */
final class AccessSection {
    static final List<String> KEYS = List.of("read-only", "allow", "tls-only", "client-certificate");
    static final List<String> ENTRY_KEYS = List.of("network", "subject", "read-only");
    /** Values of {@code client-certificate}. */
    static final List<String> REQUIREMENT = List.of("optional", "required");

    private AccessSection() {
    }

    /**
     * Reads the access keys of {@code s} over {@code base}.
     *
     * @param export the export's name for messages, null for {@code defaults:}
     */
    static ExportAccess read(Section s, ExportAccess base, String export) {
        try {
            return read(s, base);
        } catch (ConfigException e) {
            throw export == null ? e : new ConfigException("export '" + export + "': " + e.getMessage(), e);
        }
    }

    private static ExportAccess read(Section s, ExportAccess base) {
        boolean tls = s.bool("tls-only", base.tlsRequired());
        boolean certificate = s.choice("client-certificate", base.certificateRequired() ? "required" : "optional",
                REQUIREMENT).equals("required");
        return allow(s, base).withTls(tls, certificate);
    }

    private static ExportAccess allow(Section s, ExportAccess base) {
        boolean readOnly = s.bool("read-only", base.readOnly());
        if (!s.has("allow")) {
            return new ExportAccess(readOnly, base.allow());
        }
        List<Section.Element> elements = s.list("allow");
        if (elements.isEmpty()) {
            throw new ConfigException(s.where("allow") + ": empty (no client could attach; leave"
                    + " 'allow' out to let every client attach)");
        }
        List<AccessRule> rules = new ArrayList<>();
        for (Section.Element e : elements) {
            rules.add(entry(e));
        }
        return new ExportAccess(readOnly, rules);
    }

    private static AccessRule entry(Section.Element e) {
        String at = e.path();
        JsonNode n = e.node();
        if (n != null && n.isTextual()) {
            return new AccessRule(Optional.of(network(at, n.textValue())), Optional.empty(), false);
        }
        if (n == null || !n.isObject()) {
            throw new ConfigException(at + ": expected a network (e.g. 10.0.0.0/8) or a mapping with 'network',"
                    + " 'subject', 'read-only', got " + Section.describe(n));
        }
        Section s = Section.of(n, e.path());
        s.allowOnly(ENTRY_KEYS);
        Optional<Network> network = Optional.ofNullable(s.string("network", null))
                .map(t -> network(s.where("network"), t));
        Optional<X500Principal> subject = Optional.ofNullable(s.string("subject", null))
                .map(t -> subject(s.where("subject"), t));
        if (network.isEmpty() && subject.isEmpty()) {
            throw new ConfigException(at + ": needs 'network', 'subject' or both (an entry that names neither"
                    + " would match every client)");
        }
        return new AccessRule(network, subject, s.bool("read-only", false));
    }

    private static Network network(String where, String text) {
        try {
            return Network.parse(text);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(where + ": " + e.getMessage());
        }
    }

    private static X500Principal subject(String where, String text) {
        if (text.isBlank()) {
            throw new ConfigException(where + ": empty (expected a certificate subject such as 'CN=host1,O=example')");
        }
        try {
            return new X500Principal(text.trim());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(where + ": '" + text + "' is not a distinguished name (expected RFC 2253 form"
                    + " such as 'CN=host1,O=example'): " + e.getMessage());
        }
    }
}
