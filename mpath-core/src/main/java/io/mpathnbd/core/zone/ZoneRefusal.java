package io.mpathnbd.core.zone;

import java.util.Objects;

/** Why the zone state machine refused a command: the error and a message naming the zone. Made only on refusals. */
public record ZoneRefusal(ZoneError error, String message) {
    public ZoneRefusal {
        Objects.requireNonNull(error, "error");
    }
}
