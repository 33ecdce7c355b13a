package io.mpathnbd.server.admin;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** One admin API answer: status, content type, body and any extra headers. */
record AdminResponse(HttpResponseStatus status, String contentType, byte[] body, Map<String, String> headers) {
    /** Reads request bodies strictly: a field given twice is an error, not a guess at which one was meant. */
    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();
    static final String JSON_TYPE = "application/json; charset=utf-8";

    AdminResponse {
        headers = Map.copyOf(headers);
    }

    AdminResponse(HttpResponseStatus status, String contentType, byte[] body) {
        this(status, contentType, body, Map.of());
    }

    static AdminResponse json(HttpResponseStatus status, JsonNode body) {
        try {
            return new AdminResponse(status, JSON_TYPE, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(body));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise admin response", e);
        }
    }

    static AdminResponse ok(JsonNode body) {
        return json(HttpResponseStatus.OK, body);
    }

    static AdminResponse error(HttpResponseStatus status, String message) {
        ObjectNode n = JSON.createObjectNode();
        n.put("error", message);
        return json(status, n);
    }

    static AdminResponse text(String contentType, String body) {
        return new AdminResponse(HttpResponseStatus.OK, contentType, body.getBytes(StandardCharsets.UTF_8));
    }

    AdminResponse withHeader(String name, String value) {
        Map<String, String> h = new LinkedHashMap<>(headers);
        h.put(name, value);
        return new AdminResponse(status, contentType, body, h);
    }
}
