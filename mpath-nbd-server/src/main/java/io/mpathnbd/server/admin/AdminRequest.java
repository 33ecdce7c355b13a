package io.mpathnbd.server.admin;

import io.netty.handler.codec.http.HttpMethod;
import java.util.List;

/**
 * One admin API request as {@link AdminApi} sees it.
 *
 * @param segments the decoded path segments ("api", "exports", NAME, ...)
 * @param contentType the Content-Type header, or null
 * @param who the caller's address, for the operator log
 */
record AdminRequest(HttpMethod method, List<String> segments, String contentType, byte[] body, String who) {
    AdminRequest {
        segments = List.copyOf(segments);
    }

    boolean hasBody() {
        return body != null && body.length > 0;
    }
}
