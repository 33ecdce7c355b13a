package io.mpathnbd.iscsi.session;

import java.util.Objects;

/** A CHAP name and secret. The secret never appears in {@link #toString()} (nor anywhere in logs). */
public record ChapSecret(String user, String secret) {
    public ChapSecret {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(secret, "secret");
        if (user.isEmpty()) {
            throw new IllegalArgumentException("CHAP user name is empty");
        }
        if (secret.isEmpty()) {
            throw new IllegalArgumentException("CHAP secret is empty");
        }
    }

    @Override
    public String toString() {
        return "ChapSecret[user=" + user + ", secret=***]";
    }
}
