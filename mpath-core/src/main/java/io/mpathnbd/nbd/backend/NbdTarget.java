package io.mpathnbd.nbd.backend;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * Where an NBD path leads: {@code nbd://host[:port]/export-name}, or {@code nbds://...} for TLS (libnbd's spelling).
 * The export name is the percent-decoded path after the first slash (empty is allowed: the server's default export).
 */
record NbdTarget(String host, int port, String exportName, boolean tls) {
    static final int DEFAULT_PORT = 10809;

    NbdTarget(String host, int port, String exportName) {
        this(host, port, exportName, false);
    }

    static NbdTarget parse(URI uri) {
        boolean tls = "nbds".equalsIgnoreCase(uri.getScheme());
        if (!tls && !"nbd".equalsIgnoreCase(uri.getScheme())) {
            throw new IllegalArgumentException("not an nbd:// or nbds:// URI: " + uri);
        }
        if (uri.isOpaque()) {
            throw new IllegalArgumentException("malformed nbd URI '" + uri + "' (expected nbd://host[:port]/export)");
        }
        String host = uri.getHost();
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("nbd URI '" + uri + "' has no host (expected nbd://host[:port]/export)");
        }
        if (uri.getRawUserInfo() != null) {
            throw new IllegalArgumentException("nbd URI '" + uri + "': user information is not supported");
        }
        if (uri.getRawQuery() != null) {
            throw new IllegalArgumentException("nbd URI '" + uri + "': query parameters are not supported");
        }
        if (uri.getRawFragment() != null) {
            throw new IllegalArgumentException("nbd URI '" + uri + "': a fragment is not allowed");
        }
        int port = uri.getPort() < 0 ? DEFAULT_PORT : uri.getPort();
        if (port == 0 || port > 65535) {
            throw new IllegalArgumentException("nbd URI '" + uri + "': port " + port + " out of range");
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        String rawPath = uri.getRawPath() == null ? "" : uri.getRawPath();
        String name = rawPath.startsWith("/") ? rawPath.substring(1) : rawPath;
        return new NbdTarget(host, port, percentDecode(name, uri), tls);
    }

    /** Percent-decoding only ('+' stays '+', unlike form encoding); the result must be valid UTF-8. */
    static String percentDecode(String s, URI uri) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            int c = s.codePointAt(i);
            if (c == '%') {
                if (i + 2 >= s.length()) {
                    throw new IllegalArgumentException("nbd URI '" + uri + "': truncated %-escape in the export name");
                }
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    throw new IllegalArgumentException("nbd URI '" + uri + "': bad %-escape in the export name");
                }
                out.write((hi << 4) | lo);
                i += 2;
            } else {
                byte[] b = new String(Character.toChars(c)).getBytes(StandardCharsets.UTF_8);
                out.write(b, 0, b.length);
                i += Character.charCount(c) - 1;
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** host:port/export for logs. */
    String display() {
        String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
        return (tls ? "nbds://" : "nbd://") + h + ":" + port + "/" + exportName;
    }
}
