package io.mpathnbd.core.backend;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Transport-specific settings of a path that the generic {@link DriverOptions} fields do not cover, as text keyed
 * by {@code transport.name} (e.g. {@code iscsi.initiator-name}, {@code iscsi.chap-secret}). Immutable. Only keys the
 * operator set are present: each driver applies its own defaults for the others.
 *
 * <p>Values of keys whose name contains {@code secret} are never shown by {@link #toString()}, so options can be
 * logged as a whole.
 */
public final class TransportOptions {
    public static final TransportOptions EMPTY = new TransportOptions(Collections.emptyMap());

    private final Map<String, String> values; // sorted, unmodifiable

    private TransportOptions(Map<String, String> values) {
        this.values = values;
    }

    /** Copies {@code values}; null values are left out. */
    public static TransportOptions of(Map<String, String> values) {
        TreeMap<String, String> copy = new TreeMap<>();
        values.forEach((k, v) -> {
            if (v != null) {
                copy.put(checkKey(k), v);
            }
        });
        return copy.isEmpty() ? EMPTY : new TransportOptions(Collections.unmodifiableMap(copy));
    }

    /** The value set for {@code key}, or null. */
    public String get(String key) {
        return values.get(key);
    }

    public String get(String key, String fallback) {
        String v = values.get(key);
        return v == null ? fallback : v;
    }

    /**
     * A duration value (stored by {@link #with(String, Duration)} as ISO-8601, e.g. {@code PT15S}), or
     * {@code fallback} when not set; {@link IllegalArgumentException} naming the key if it is not a duration.
     */
    public Duration duration(String key, Duration fallback) {
        String v = values.get(key);
        if (v == null) {
            return fallback;
        }
        try {
            return Duration.parse(v);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(key + ": '" + v + "' is not an ISO-8601 duration");
        }
    }

    /** A boolean value ({@code true}/{@code false}), or {@code fallback} when not set. */
    public boolean bool(String key, boolean fallback) {
        String v = values.get(key);
        if (v == null) {
            return fallback;
        }
        String t = v.trim().toLowerCase(Locale.ROOT);
        if (!t.equals("true") && !t.equals("false")) {
            throw new IllegalArgumentException(key + ": '" + v + "' is not true or false");
        }
        return t.equals("true");
    }

    public Set<String> keys() {
        return values.keySet();
    }

    public boolean isEmpty() {
        return values.isEmpty();
    }

    /** A copy with {@code key} set to {@code value} (null removes it). */
    public TransportOptions with(String key, String value) {
        TreeMap<String, String> copy = new TreeMap<>(values);
        if (value == null) {
            copy.remove(key);
        } else {
            copy.put(checkKey(key), value);
        }
        return copy.isEmpty() ? EMPTY : new TransportOptions(Collections.unmodifiableMap(copy));
    }

    public TransportOptions with(String key, Duration value) {
        return with(key, value == null ? null : value.toString());
    }

    /** A copy with every key of {@code over} set to its value there (over wins). */
    public TransportOptions with(TransportOptions over) {
        if (over.isEmpty()) {
            return this;
        }
        TreeMap<String, String> copy = new TreeMap<>(values);
        copy.putAll(over.values);
        return new TransportOptions(Collections.unmodifiableMap(copy));
    }

    /** True for keys whose values must never be shown. */
    public static boolean isSecret(String key) {
        return key.toLowerCase(Locale.ROOT).contains("secret");
    }

    private static String checkKey(String key) {
        if (key == null || key.isBlank()) {
            throw new IllegalArgumentException("empty transport option key");
        }
        return key;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TransportOptions && ((TransportOptions) o).values.equals(values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("{");
        values.forEach((k, v) -> {
            if (sb.length() > 1) {
                sb.append(", ");
            }
            sb.append(k).append('=').append(isSecret(k) ? "***" : v);
        });
        return sb.append('}').toString();
    }
}
