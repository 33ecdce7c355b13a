package io.mpathnbd.server.config;

/** A listening address as written in config and flags: {@code HOST:PORT}, IPv6 hosts in brackets. */
public record HostPort(String host, int port) {

    /** @param where key path or flag name used in the error message */
    public static HostPort parse(String where, String text) {
        String t = text == null ? "" : text.trim();
        int colon = t.lastIndexOf(':');
        if (colon <= 0 || colon == t.length() - 1) {
            throw new ConfigException(where + ": '" + text + "' is not HOST:PORT (e.g. 127.0.0.1:10809)");
        }
        String host = t.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.indexOf(':') >= 0) {
            throw new ConfigException(where + ": '" + text + "' is not HOST:PORT (write IPv6 hosts in brackets, e.g. [::1]:10809)");
        }
        if (host.isEmpty() || host.chars().anyMatch(c -> c <= ' ')) {
            throw new ConfigException(where + ": '" + text + "' has no valid host (e.g. 127.0.0.1:10809)");
        }
        String portText = t.substring(colon + 1);
        int port;
        try {
            port = Integer.parseInt(portText);
        } catch (NumberFormatException e) {
            throw new ConfigException(where + ": port '" + portText + "' in '" + text + "' is not a number");
        }
        if (port < 0 || port > 65535) {
            throw new ConfigException(where + ": port " + port + " in '" + text + "' is out of range (0-65535)");
        }
        return new HostPort(host, port);
    }

    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
