package io.mpathnbd.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * One YAML mapping being read, with its key path ("exports[0].paths[1]"), so every message can say where it is.
 */
final class Section {
    private final JsonNode node;
    private final String path;

    private Section(JsonNode node, String path) {
        this.node = node;
        this.path = path;
    }

    static Section of(JsonNode node, String path) {
        if (node == null || !node.isObject()) {
            throw new ConfigException((path.isEmpty() ? "the config" : path) + ": expected a mapping of keys, got "
                    + describe(node));
        }
        return new Section(node, path);
    }

    String path() {
        return path;
    }

    String where(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    boolean has(String key) {
        return node.has(key);
    }

    JsonNode raw(String key) {
        return node.get(key);
    }

    /** Rejects keys outside {@code allowed}, suggesting the nearest allowed one. */
    void allowOnly(Collection<String> allowed) {
        Iterator<String> names = node.fieldNames();
        while (names.hasNext()) {
            String key = names.next();
            if (!allowed.contains(key)) {
                String at = path.isEmpty() ? "the top level" : path;
                String hint = suggest(key, allowed);
                throw new ConfigException("unknown key '" + key + "' at " + at
                        + (hint == null ? " (known keys: " + String.join(", ", allowed) + ")"
                                : " (did you mean '" + hint + "'?)"));
            }
        }
    }

    String string(String key, String fallback) {
        JsonNode v = node.get(key);
        if (v == null) {
            return fallback;
        }
        return scalar(where(key), v);
    }

    int integer(String key, int fallback, int min, int max) {
        JsonNode v = node.get(key);
        if (v == null) {
            return fallback;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw new ConfigException(where(key) + ": expected a whole number, got " + describe(v));
        }
        long n = v.longValue();
        if (n < min || n > max) {
            throw new ConfigException(where(key) + ": " + n + " is out of range (" + min + " to " + max + ")");
        }
        return (int) n;
    }

    boolean bool(String key, boolean fallback) {
        JsonNode v = node.get(key);
        if (v == null) {
            return fallback;
        }
        if (v.isBoolean()) {
            return v.booleanValue();
        }
        String t = v.isTextual() ? v.textValue().trim().toLowerCase(Locale.ROOT) : "";
        if (t.equals("true") || t.equals("false")) {
            return t.equals("true");
        }
        throw new ConfigException(where(key) + ": expected true or false, got " + describe(v));
    }

    /**
     * @param min smallest accepted value (inclusive)
     */
    Duration duration(String key, Duration fallback, Duration min) {
        String text = durationText(key, "100ms, 5s, 2m");
        if (text == null) {
            return fallback;
        }
        Duration d = Units.duration(where(key), text);
        if (d.compareTo(min) < 0) {
            throw new ConfigException(where(key) + ": must be at least " + Units.format(min) + ", got '" + text + "'");
        }
        if (d.compareTo(Duration.ofDays(365)) > 0) {
            throw new ConfigException(where(key) + ": '" + text + "' is too large (at most a year)");
        }
        return d;
    }

    /** A duration that may be written in microseconds, from zero up to {@code max}. */
    Duration fineDuration(String key, Duration fallback, Duration max) {
        String text = durationText(key, "50us, 1ms");
        return text == null ? fallback : Units.fineDuration(where(key), text, max);
    }

    /** The key's text, null when absent; a bare number other than 0 is refused, as it has no unit. */
    private String durationText(String key, String examples) {
        JsonNode v = node.get(key);
        if (v == null) {
            return null;
        }
        String text = scalar(where(key), v);
        if (v.isNumber() && v.asLong() != 0) {
            throw new ConfigException(where(key) + ": '" + text + "' has no unit (use e.g. " + examples + ")");
        }
        return text;
    }

    int size(String key, int fallback, int min, int max) {
        JsonNode v = node.get(key);
        if (v == null) {
            return fallback;
        }
        long n = Units.size(where(key), scalar(where(key), v));
        if (n < min || n > max) {
            throw new ConfigException(where(key) + ": " + Units.formatSize(n) + " is out of range ("
                    + Units.formatSize(min) + " to " + Units.formatSize(max) + ")");
        }
        return (int) n;
    }

    /** One of {@code choices}; case-insensitive, '_' accepted for '-'. */
    String choice(String key, String fallback, List<String> choices) {
        JsonNode v = node.get(key);
        if (v == null) {
            return fallback;
        }
        return oneOf(where(key), scalar(where(key), v), choices);
    }

    static String oneOf(String where, String text, List<String> choices) {
        String t = text.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        if (!choices.contains(t)) {
            throw new ConfigException(where + ": '" + text + "' is not one of " + String.join(", ", choices));
        }
        return t;
    }

    /** A list under {@code key}, each element with its key path; missing -> empty list. */
    List<Element> list(String key) {
        JsonNode v = node.get(key);
        List<Element> out = new ArrayList<>();
        if (v == null) {
            return out;
        }
        if (!v.isArray()) {
            throw new ConfigException(where(key) + ": expected a list, got " + describe(v));
        }
        for (int i = 0; i < v.size(); i++) {
            out.add(new Element(v.get(i), where(key) + "[" + i + "]"));
        }
        return out;
    }

    record Element(JsonNode node, String path) {
    }

    static String scalar(String where, JsonNode v) {
        if (v.isTextual()) {
            return v.textValue();
        }
        if (v.isNumber() || v.isBoolean()) {
            return v.asText();
        }
        throw new ConfigException(where + ": expected a single value, got " + describe(v));
    }

    static String describe(JsonNode v) {
        if (v == null || v.isMissingNode()) {
            return "nothing";
        }
        if (v.isNull()) {
            return "an empty value";
        }
        if (v.isObject()) {
            return "a mapping";
        }
        if (v.isArray()) {
            return "a list";
        }
        return "'" + v.asText() + "'";
    }

    /** A near miss among {@code allowed}: same key with '_' or case differences, or within two edits. */
    static String suggest(String key, Collection<String> allowed) {
        String norm = key.toLowerCase(Locale.ROOT).replace('_', '-').replace(' ', '-');
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String a : allowed) {
            if (a.equals(norm)) {
                return a;
            }
            int d = editDistance(norm, a);
            if (d < bestDistance) {
                bestDistance = d;
                best = a;
            }
        }
        return bestDistance <= (key.length() <= 4 ? 1 : 2) ? best : null;
    }

    private static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
