package io.mpathnbd.server.admin;

import io.mpathnbd.server.Gateway;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** Bytes on the admin socket as they are, for requests an HTTP client library would refuse or tidy up. */
final class RawHttp {
    private RawHttp() {
    }

    /** Sends {@code request} as is and reads the answer until the server closes, for at most 5 s. */
    static String exchange(Gateway g, String request) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), g.adminAddress().getPort())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    /** {@code METHOD PATH} with {@code Connection: close} and the headers given (each "Name: value"). */
    static String request(Gateway g, String method, String path, String... headers) throws IOException {
        StringBuilder r = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: x\r\n");
        for (String h : headers) {
            r.append(h).append("\r\n");
        }
        return exchange(g, r.append("Connection: close\r\n\r\n").toString());
    }

    /** The status code of a raw answer. */
    static int status(String answer) {
        if (!answer.startsWith("HTTP/1.1 ") || answer.length() < 12) {
            throw new AssertionError("not an HTTP answer: " + answer);
        }
        return Integer.parseInt(answer.substring(9, 12));
    }

    /** The body of a raw answer, decoded as the UTF-8 it is (the answer was read byte for byte). */
    static String body(String answer) {
        int at = answer.indexOf("\r\n\r\n");
        String raw = at < 0 ? "" : answer.substring(at + 4);
        return new String(raw.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
    }
}
